// Admin controls: each CRM on or off globally and per tenant, sync frequency per connection, errors across tenants.
import React, { useState } from 'react';
import { Box, Text } from '@adminjs/design-system';
import { Loading, LogLines, Notice, Panel, StatusBadge, timeAgo, usePage } from './crm-ui.jsx';

const cell = { padding: '6px 10px', borderBottom: '1px solid #e5e7eb', textAlign: 'left' };

const Switch = ({ value, onChange, disabled, label }) => (
  <label title={value === null ? 'No switch: enabled' : undefined}>
    <input type="checkbox" aria-label={label} checked={value !== false} onChange={(e) => onChange(e.target.checked)} disabled={disabled} />{' '}
    {value === false ? 'disabled' : 'enabled'}
  </label>
);

const CrmAdminControls = () => {
  const state = usePage('crmAdminControls');
  const { data, rootPath } = state;
  const [notice, setNotice] = useState(null);
  const act = async (op, body, message) => {
    setNotice(null);
    const result = await state.run(op, body);
    setNotice(result.error ? { type: 'error', message: result.error } : { type: 'success', message });
    await state.reload();
  };
  if (!data) return <Loading state={state} />;
  const tenants = data.providers[0] ? data.providers[0].tenants.map((t) => t.tenantId) : [];
  return (
    <Box variant="grey" data-testid="crm-admin-controls">
      <Notice notice={notice} />
      <Panel title="CRMs">
        {!data.canSwitchProviders ? <Text mb="default">Only a platform admin switches CRMs on or off.</Text> : null}
        <table style={{ borderCollapse: 'collapse' }}>
          <thead>
            <tr>
              <th style={cell}>CRM</th>
              <th style={cell}>All tenants</th>
              {tenants.map((t) => (
                <th key={t} style={cell}>
                  {t}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.providers.map((p) => (
              <tr key={p.provider} data-provider={p.provider}>
                <td style={cell}>{p.displayName}</td>
                <td style={cell}>
                  <Switch
                    label={`${p.displayName} for all tenants`}
                    value={p.global}
                    disabled={!data.canSwitchProviders}
                    onChange={(enabled) =>
                      act('provider', { provider: p.provider, tenantId: null, enabled }, `${p.displayName} ${enabled ? 'enabled' : 'disabled'} for all tenants.`)
                    }
                  />
                </td>
                {p.tenants.map((t) => (
                  <td key={t.tenantId} style={cell}>
                    <Switch
                      label={`${p.displayName} for ${t.tenantId}`}
                      value={t.enabled}
                      disabled={!data.canSwitchProviders}
                      onChange={(enabled) =>
                        act('provider', { provider: p.provider, tenantId: t.tenantId, enabled }, `${p.displayName} ${enabled ? 'enabled' : 'disabled'} for ${t.tenantId}.`)
                      }
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
      <Panel title="Connections">
        <table style={{ borderCollapse: 'collapse', width: '100%' }}>
          <thead>
            <tr>
              {['Tenant', 'CRM', 'Status', 'Health', 'Last sync', 'Sync frequency', ''].map((t) => (
                <th key={t} style={cell}>
                  {t}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.connections.map((c) => (
              <tr key={c.id}>
                <td style={cell}>{c.tenantId}</td>
                <td style={cell}>
                  {c.displayName} {c.crmAccountName ? `(${c.crmAccountName})` : ''}
                </td>
                <td style={cell}>
                  <StatusBadge value={c.status} title={c.statusReason} />
                </td>
                <td style={cell}>
                  <StatusBadge value={c.health} title={c.healthReason} />
                </td>
                <td style={cell}>{timeAgo(c.lastSyncAt)}</td>
                <td style={cell}>
                  <select
                    aria-label={`Sync frequency of ${c.displayName} (${c.tenantId})`}
                    value={c.frequency}
                    disabled={!data.canChange}
                    onChange={(e) => act('frequency', { connectionId: c.id, frequency: e.target.value }, 'Sync frequency saved.')}
                  >
                    {data.frequencies.map((f) => (
                      <option key={f.value} value={f.value}>
                        {f.label}
                      </option>
                    ))}
                  </select>
                </td>
                <td style={cell}>
                  <a href={`${rootPath}/pages/crmConfiguration?connectionId=${c.id}`}>Disconnect / reconnect</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
      <Panel title="Errors across tenants" testId="errors-across-tenants">
        <LogLines lines={data.errors} showConnection />
      </Panel>
      <Text>
        <a href={`${rootPath}/resources/CrmAuditLogEntry`}>Audit log</a> (read-only)
      </Text>
    </Box>
  );
};

export default CrmAdminControls;
