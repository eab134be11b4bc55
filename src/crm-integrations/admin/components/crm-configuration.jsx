// The seed's Configuration page: status, last sync, what to sync and how, Save Settings, Disconnect / Reconnect.
import React, { useEffect, useState } from 'react';
import { Box, Button, Text } from '@adminjs/design-system';
import { Loading, Notice, Panel, RunCounts, StatusBadge, SubTitle, queryParam, timeAgo, usePage } from './crm-ui.jsx';

const FieldError = ({ errors, field }) =>
  errors[field] ? (
    <span role="alert" data-error-for={field} style={{ color: '#b91c1c', marginLeft: 12, fontSize: 13 }}>
      {errors[field]}
    </span>
  ) : null;

const Group = ({ title, field, errors, children }) => (
  <fieldset data-field={field} style={{ border: 'none', padding: 0, margin: '0 0 18px 0' }}>
    <legend style={{ fontWeight: 600, marginBottom: 6 }}>
      {title}
      <FieldError errors={errors} field={field} />
    </legend>
    {children}
  </fieldset>
);

const Choice = ({ type, name, checked, onChange, label, disabled }) => (
  <div style={{ padding: '2px 0 2px 12px' }}>
    <label>
      <input type={type} name={name} checked={checked} onChange={onChange} disabled={disabled} /> {label}
    </label>
  </div>
);

const ConnectionPicker = ({ rootPath, connections }) => (
  <Panel title="Configuration">
    <Text mb="lg">Choose a connection to configure.</Text>
    {connections.map((c) => (
      <div key={c.id}>
        <a href={`${rootPath}/pages/crmConfiguration?connectionId=${c.id}`}>
          {c.displayName} {c.crmAccountName ? `(${c.crmAccountName})` : ''} — {c.tenantId}
        </a>{' '}
        <StatusBadge value={c.status} />
      </div>
    ))}
  </Panel>
);

const CrmConfiguration = () => {
  const connectionId = queryParam('connectionId');
  const justConnected = queryParam('status') === 'connected';
  const state = usePage('crmConfiguration', connectionId ? { connectionId } : {});
  const { data, rootPath } = state;
  const [settings, setSettings] = useState(null);
  const [errors, setErrors] = useState({});
  const [notice, setNotice] = useState(null);

  useEffect(() => {
    if (data && data.settings) setSettings(data.settings);
  }, [data]);

  if (!connectionId && data && data.connections) return <ConnectionPicker rootPath={rootPath} connections={data.connections} />;
  if (!data || !settings) return <Loading state={state} />;

  const { connection, choices, canChange } = data;
  const crm = connection.displayName;
  const set = (key, value) => setSettings({ ...settings, [key]: value });
  const toggleObject = (name) =>
    set('objects', settings.objects.includes(name) ? settings.objects.filter((o) => o !== name) : [...settings.objects, name]);

  const save = async () => {
    setNotice(null);
    const result = await state.run('save', { connectionId, settings });
    if (result.error) return setNotice({ type: 'error', message: result.error });
    setErrors(result.data.errors || {});
    if (result.data.errors) return setNotice({ type: 'error', message: 'Settings not saved: see the fields marked.' });
    setNotice({ type: 'success', message: 'Settings saved.' });
    await state.reload();
  };
  const disconnect = async () => {
    if (!window.confirm(`Disconnect ${crm}? The token is revoked at ${crm} and deleted here.`)) return;
    const result = await state.run('disconnect', { connectionId });
    if (result.error) return setNotice({ type: 'error', message: result.error });
    setNotice({
      type: 'success',
      message: `Disconnected from ${crm}${result.data.revokedAtCrm ? ': the token was revoked at the CRM.' : '.'}`,
    });
    await state.reload();
  };
  const reconnect = async () => {
    const result = await state.run('reconnect', {
      connectionId,
      returnTo: `${window.location.origin}${rootPath}/pages/crmConfiguration`,
    });
    if (result.error) return setNotice({ type: 'error', message: result.error });
    window.location.assign(result.data.authorizeUrl);
  };
  const connected = connection.status === 'connected';

  return (
    <Box variant="grey" data-testid="crm-configuration">
      <Panel
        title={`${crm} Configuration`}
        actions={
          canChange ? (
            connected ? (
              <Button variant="danger" onClick={disconnect} data-testid="disconnect">
                Disconnect
              </Button>
            ) : (
              <Button variant="contained" onClick={reconnect} data-testid="reconnect">
                Reconnect
              </Button>
            )
          ) : null
        }
      >
        {justConnected && connected ? <Notice notice={{ type: 'success', message: `Connected to ${crm}.` }} /> : null}
        <Notice notice={notice} />
        <Box mb="lg">
          <div>
            Status: <StatusBadge value={connection.status} title={connection.statusReason} />{' '}
            <StatusBadge value={connection.health} title={connection.healthReason} />
            {connection.statusReason ? <span style={{ color: '#6b7280' }}> {connection.statusReason}</span> : null}
          </div>
          <div data-testid="last-sync">Last Sync: {timeAgo(connection.lastSyncAt)}</div>
          {connection.crmAccountName ? <div>Account: {connection.crmAccountName}</div> : null}
        </Box>
        <SubTitle>Sync Settings</SubTitle>
        <Group title="Objects to Sync" field="objects" errors={errors}>
          {choices.objects.map((object) => (
            <Choice
              key={object.name}
              type="checkbox"
              name="objects"
              label={object.label}
              checked={settings.objects.includes(object.name)}
              onChange={() => toggleObject(object.name)}
              disabled={!canChange}
            />
          ))}
        </Group>
        <Group title="Sync Direction" field="direction" errors={errors}>
          {choices.directions.map((choice) => (
            <Choice
              key={choice.value}
              type="radio"
              name="direction"
              label={choice.label}
              checked={settings.direction === choice.value}
              onChange={() => set('direction', choice.value)}
              disabled={!canChange}
            />
          ))}
        </Group>
        <Group title="Conflict Resolution" field="conflictPolicy" errors={errors}>
          {choices.conflictPolicies.map((choice) => (
            <Choice
              key={choice.value}
              type="radio"
              name="conflictPolicy"
              label={choice.label}
              checked={settings.conflictPolicy === choice.value}
              onChange={() => set('conflictPolicy', choice.value)}
              disabled={!canChange}
            />
          ))}
        </Group>
        <Group title="Sync Frequency" field="frequency" errors={errors}>
          <select
            aria-label="Sync Frequency"
            name="frequency"
            value={settings.frequency}
            onChange={(event) => set('frequency', event.target.value)}
            disabled={!canChange}
            style={{ marginLeft: 12 }}
          >
            {choices.frequencies.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </Group>
        <Group title="Real-time" field="realtime" errors={errors}>
          <Choice
            type="checkbox"
            name="realtime"
            label={`Sync changes within a minute (${crm}'s change events, and immediate pushes from PenguinMails)`}
            checked={!!settings.realtime}
            onChange={() => set('realtime', !settings.realtime)}
            disabled={!canChange}
          />
        </Group>
        <Group title="Activity Logging" field="activityLogging" errors={errors}>
          <Choice
            type="checkbox"
            name="activityLogging"
            label={`Log e-mail activity (sent, opened, clicked, replied…) into ${crm}`}
            checked={!!settings.activityLogging}
            onChange={() => set('activityLogging', !settings.activityLogging)}
            disabled={!canChange}
          />
          <Choice
            type="checkbox"
            name="propagateDeletes"
            label="Delete on the other side when a contact is deleted on one side"
            checked={!!settings.propagateDeletes}
            onChange={() => set('propagateDeletes', !settings.propagateDeletes)}
            disabled={!canChange}
          />
        </Group>
        <Box mb="xl">
          <a href={`${rootPath}/pages/crmFieldMapping?connectionId=${connection.id}`}>[Manage Field Mapping]</a>
          {' · '}
          <a href={`${rootPath}/pages/crmSyncActivity?connectionId=${connection.id}`}>Sync Activity</a>
        </Box>
        {canChange ? (
          <Button variant="contained" onClick={save} data-testid="save-settings">
            Save Settings
          </Button>
        ) : (
          <Text color="grey60">You can look at these settings but not change them.</Text>
        )}
      </Panel>
      {data.lastRun ? (
        <Panel title="Last run">
          <Text mb="default">
            {data.lastRun.trigger} · <StatusBadge value={data.lastRun.status} /> · {timeAgo(data.lastRun.finishedAt || data.lastRun.queuedAt)}
            {data.lastRun.error ? ` · ${data.lastRun.error}` : ''}
          </Text>
          <RunCounts rows={data.lastRun.counts} />
        </Panel>
      ) : null}
    </Box>
  );
};

export default CrmConfiguration;
