// Home: replaces AdminJS's stock dashboard with each connection's status, last sync and today's counts.
import React from 'react';
import { Box, H2, Text } from '@adminjs/design-system';
import { Loading, LogLines, Panel, StatusBadge, SubTitle, timeAgo, usePage } from './crm-ui.jsx';

const cell = { padding: '6px 10px', borderBottom: '1px solid #e5e7eb', textAlign: 'left', verticalAlign: 'top' };

const CrmHome = () => {
  const state = usePage('crmHome');
  const { data, rootPath } = state;
  const page = (name, query) => `${rootPath}/pages/${name}${query ? `?${new URLSearchParams(query)}` : ''}`;
  return (
    <Box variant="grey" data-testid="crm-home">
      <Box mb="xl">
        <H2>PenguinMails CRM Integrations</H2>
        <Text>Connections, today's sync activity and errors{data && data.allTenants ? ', across every tenant' : ''}.</Text>
      </Box>
      <Loading state={state} />
      {data &&
        data.tenants.map((tenant) => (
          <Panel
            key={tenant.id}
            title={`${tenant.name} (${tenant.id})`}
            testId={`tenant-${tenant.id}`}
            actions={
              data.canChange ? (
                <a href={page('crmConnect', { tenantId: tenant.id })}>Connect a CRM</a>
              ) : null
            }
          >
            {tenant.connections.length === 0 ? (
              <Text>No CRM connected yet.</Text>
            ) : (
              <table style={{ borderCollapse: 'collapse', width: '100%' }}>
                <thead>
                  <tr>
                    {['CRM', 'Status', 'Health', 'Last sync', "Today's activity", ''].map((title) => (
                      <th key={title} style={cell}>
                        {title}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {tenant.connections.map((connection) => (
                    <tr key={connection.id} data-connection={connection.provider}>
                      <td style={cell}>
                        <strong>{connection.displayName}</strong>
                        {connection.crmAccountName ? <div style={{ color: '#6b7280' }}>{connection.crmAccountName}</div> : null}
                      </td>
                      <td style={cell}>
                        <StatusBadge value={connection.status} title={connection.statusReason} />
                      </td>
                      <td style={cell}>
                        <StatusBadge value={connection.health} title={connection.healthReason} />
                      </td>
                      <td style={cell}>{timeAgo(connection.lastSyncAt)}</td>
                      <td style={cell}>
                        {connection.today.contactsSynced} contacts · {connection.today.activitiesLogged} activities ·{' '}
                        {connection.today.conflictsResolved} conflicts ·{' '}
                        <span style={{ color: connection.today.errors ? '#991b1b' : undefined }}>
                          {connection.today.errors} errors
                        </span>
                      </td>
                      <td style={cell}>
                        <a href={page('crmConfiguration', { connectionId: connection.id })}>Configure</a>
                        {' · '}
                        <a href={page('crmSyncActivity', { connectionId: connection.id })}>Sync activity</a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Panel>
        ))}
      {data && data.tenants.length === 0 ? <Text>No tenant yet.</Text> : null}
      {data && (
        <Panel title="Recent errors" testId="recent-errors">
          <SubTitle>Across {data.allTenants ? 'every tenant' : 'your tenant'}</SubTitle>
          <LogLines lines={data.recentErrors} showConnection />
        </Panel>
      )}
    </Box>
  );
};

export default CrmHome;
