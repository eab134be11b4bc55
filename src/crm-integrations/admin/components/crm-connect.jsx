// The seed's Connect page: a card per CRM with its state and a Connect button to the CRM's sign-in page.
import React, { useState } from 'react';
import { Box, Button, H3, Text } from '@adminjs/design-system';
import { Loading, Notice, Panel, StatusBadge, queryParam, usePage } from './crm-ui.jsx';

const card = {
  border: '1px solid #d1d5db',
  borderRadius: 6,
  padding: 20,
  width: 260,
  minHeight: 150,
  background: 'white',
  display: 'flex',
  flexDirection: 'column',
  justifyContent: 'space-between',
};

const CrmConnect = () => {
  const tenantId = queryParam('tenantId');
  const state = usePage('crmConnect', tenantId ? { tenantId } : {});
  const [notice, setNotice] = useState(null);
  const { data, rootPath } = state;

  const connect = async (provider, connectionId) => {
    setNotice(null);
    const result = await state.run('start', {
      tenantId: data.tenantId,
      provider,
      connectionId,
      returnTo: `${window.location.origin}${rootPath}/pages/crmConfiguration`,
    });
    if (result.error) setNotice({ type: 'error', message: result.error });
    else window.location.assign(result.data.authorizeUrl);
  };

  return (
    <Box variant="grey" data-testid="crm-connect">
      <Panel title="CRM Integrations">
        <Loading state={state} />
        <Notice notice={notice} />
        {data && data.tenants.length > 1 ? (
          <Box mb="lg">
            <label>
              Tenant{' '}
              <select
                name="tenantId"
                value={data.tenantId || ''}
                onChange={(event) => window.location.assign(`?tenantId=${encodeURIComponent(event.target.value)}`)}
              >
                {data.tenants.map((tenant) => (
                  <option key={tenant.id} value={tenant.id}>
                    {tenant.name} ({tenant.id})
                  </option>
                ))}
              </select>
            </label>
          </Box>
        ) : null}
        {data && !data.tenantId ? <Text>No tenant yet: create one under Tenants first.</Text> : null}
        {data && data.tenantId ? (
          <Box flex flexWrap="wrap" style={{ gap: 20 }}>
            {data.cards.map((item) => {
              const live = item.connections.filter((c) => c.status !== 'disconnected');
              return (
                <div key={item.provider} style={{ ...card, opacity: item.enabled ? 1 : 0.6 }} data-crm={item.provider}>
                  <div>
                    <H3>{item.displayName}</H3>
                    {!item.enabled ? <StatusBadge value="disabled" title="Disabled by an administrator" /> : null}
                    {item.connections.map((connection) => (
                      <div key={connection.id} style={{ marginTop: 6 }}>
                        <StatusBadge value={connection.status} />{' '}
                        <a href={`${rootPath}/pages/crmConfiguration?connectionId=${connection.id}`}>
                          {connection.crmAccountName || 'Configure'}
                        </a>
                      </div>
                    ))}
                  </div>
                  <Box mt="lg">
                    <Button
                      variant={live.length ? 'outlined' : 'contained'}
                      disabled={!item.enabled || !data.canChange}
                      onClick={() => connect(item.provider)}
                      data-testid={`connect-${item.provider}`}
                    >
                      {live.length ? 'Connect another account' : 'Connect'}
                    </Button>
                  </Box>
                </div>
              );
            })}
            <div style={{ ...card, background: '#f9fafb' }} data-crm="coming-soon">
              <div>
                <H3>Coming Soon</H3>
                <Text>{data.comingSoon.join(', ')}</Text>
              </div>
            </div>
          </Box>
        ) : null}
      </Panel>
    </Box>
  );
};

export default CrmConnect;
