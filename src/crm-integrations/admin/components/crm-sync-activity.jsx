// The seed's Sync Status page: today's counts, real-time lag, the recent log, Sync Now, and the full log with filters
// and paging.
import React, { useEffect, useRef, useState } from 'react';
import { Box, Button, Text } from '@adminjs/design-system';
import {
  Loading,
  LogLines,
  Notice,
  Panel,
  RunCounts,
  StatusBadge,
  SubTitle,
  TodayCounts,
  queryParam,
  timeAgo,
  usePage,
} from './crm-ui.jsx';

const ACTIONS = ['created', 'updated', 'skipped', 'conflict_resolved', 'error', 'deleted', 'unlinked', 'duplicate_found', 'activity_logged', 'status_changed'];

const FullLog = ({ state, connections, connectionId }) => {
  const [filter, setFilter] = useState({ connectionId: connectionId || '', direction: '', action: '', errorsOnly: false, from: '', to: '' });
  // The log pages by cursor (as the API does): cursors[n] opens page n + 1; the first page has none.
  const [cursors, setCursors] = useState([undefined]);
  const [result, setResult] = useState(null);
  // Only the latest request's answer is shown: an earlier one arriving late would show the wrong filters' lines.
  const latest = useRef(0);
  const load = async (nextFilter, nextCursors) => {
    const request = ++latest.current;
    const response = await state.run('log', { ...nextFilter, cursor: nextCursors[nextCursors.length - 1], pageSize: 20 });
    if (request !== latest.current) return;
    // The page number changes with the lines it numbers, not before they arrive.
    setCursors(nextCursors);
    setResult(response.data || { lines: [], total: 0, pageSize: 20, nextCursor: null, error: response.error });
  };
  useEffect(() => {
    load(filter, cursors);
  }, []);
  const change = (key, value) => {
    const next = { ...filter, [key]: value };
    setFilter(next);
    load(next, [undefined]);
  };
  const go = (nextCursors) => load(filter, nextCursors);
  const page = cursors.length;
  const pages = result ? Math.max(1, Math.ceil(result.total / result.pageSize)) : 1;
  return (
    <Panel title="Full Log" testId="full-log">
      <Box flex flexWrap="wrap" mb="lg" style={{ gap: 12 }}>
        <label>
          Connection{' '}
          <select name="connectionId" value={filter.connectionId} onChange={(e) => change('connectionId', e.target.value)}>
            <option value="">All</option>
            {connections.map((c) => (
              <option key={c.id} value={c.id}>
                {c.displayName} {c.crmAccountName ? `(${c.crmAccountName})` : ''}
              </option>
            ))}
          </select>
        </label>
        <label>
          Direction{' '}
          <select name="direction" value={filter.direction} onChange={(e) => change('direction', e.target.value)}>
            <option value="">Any</option>
            <option value="to_crm">→ to the CRM</option>
            <option value="from_crm">← from the CRM</option>
            <option value="none">· the connection</option>
          </select>
        </label>
        <label>
          Action{' '}
          <select name="action" value={filter.action} onChange={(e) => change('action', e.target.value)}>
            <option value="">Any</option>
            {ACTIONS.map((action) => (
              <option key={action} value={action}>
                {action.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" name="errorsOnly" checked={filter.errorsOnly} onChange={(e) => change('errorsOnly', e.target.checked)} /> Errors only
        </label>
        <label>
          From <input type="date" name="from" value={filter.from} onChange={(e) => change('from', e.target.value)} />
        </label>
        <label>
          To <input type="date" name="to" value={filter.to} onChange={(e) => change('to', e.target.value)} />
        </label>
      </Box>
      {result && result.error ? <Notice notice={{ type: 'error', message: result.error }} /> : null}
      {result ? <LogLines lines={result.lines} showConnection /> : <Text>Loading…</Text>}
      {result ? (
        <Box flex alignItems="center" mt="lg" style={{ gap: 12 }} data-testid="log-paging">
          <Button size="sm" variant="outlined" disabled={page <= 1} onClick={() => go(cursors.slice(0, -1))}>
            Previous
          </Button>
          <span>
            Page {page} of {Math.max(page, pages)} · {result.total} lines
          </span>
          <Button size="sm" variant="outlined" disabled={!result.nextCursor} onClick={() => go([...cursors, result.nextCursor])}>
            Next
          </Button>
        </Box>
      ) : null}
    </Panel>
  );
};

const ms = (value) => (value === null || value === undefined ? '—' : value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(1)} s`);

/** Issue 15's per-connection figures: real-time on or off and the measured end-to-end lag, as the API reports them. */
const Realtime = ({ realtime, configurationHref }) => (
  <Box mb="xl" data-testid="realtime">
    <ul style={{ listStyle: 'none', padding: 0, margin: 0 }}>
      <li data-realtime="enabled">
        • Real-time: <strong>{realtime.enabled ? 'on' : 'off'}</strong> <a href={configurationHref}>(change)</a>
      </li>
      <li data-realtime="lagP50Ms">
        • Lag p50: <strong>{ms(realtime.lagP50Ms)}</strong>
      </li>
      <li data-realtime="lagP95Ms">
        • Lag p95: <strong>{ms(realtime.lagP95Ms)}</strong>
      </li>
      <li data-realtime="eventsLastHour">
        • Change events in the last hour: <strong>{realtime.eventsLastHour}</strong>
      </li>
    </ul>
  </Box>
);

const DRIFT_KINDS = [
  ['missingInCrm', 'Missing in the CRM'],
  ['changedInCrm', 'Changed in the CRM'],
  ['notInCrm', 'Not in the CRM'],
  ['changedLocally', 'Changed locally'],
  ['notInPenguinMails', 'Not in PenguinMails'],
];
const cell = { padding: '4px 10px', borderBottom: '1px solid #e5e7eb', textAlign: 'right' };

/** Issue 15's reconcile: the latest one's drift per CRM object and kind, when it ran, and Reconcile now. */
const Reconcile = ({ reconcile, canChange, onReconcile }) => (
  <Box mb="xl" data-testid="reconcile">
    <Text mb="sm">
      {reconcile.latest ? (
        <span data-reconcile-at={reconcile.latest.at}>
          Last reconcile {timeAgo(reconcile.latest.at)} ({new Date(reconcile.latest.at).toLocaleString()}) · <StatusBadge value={reconcile.latest.status} />
        </span>
      ) : (
        'No reconcile has run yet.'
      )}
      {reconcile.pending ? ' · a reconcile is waiting or running' : ''}
    </Text>
    {reconcile.latest ? (
      <table data-testid="reconcile-drift" style={{ borderCollapse: 'collapse', marginBottom: 12 }}>
        <thead>
          <tr>
            <th style={{ ...cell, textAlign: 'left' }}>Object</th>
            <th style={cell}>In the CRM</th>
            <th style={cell}>In PenguinMails</th>
            {DRIFT_KINDS.map(([kind, label]) => (
              <th key={kind} style={cell}>
                {label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {Object.entries(reconcile.latest.drift).map(([object, drift]) => (
            <tr key={object} data-drift-object={object}>
              <td style={{ ...cell, textAlign: 'left' }}>{object}</td>
              <td style={cell}>{drift.crmRecords}</td>
              <td style={cell}>{drift.localContacts}</td>
              {DRIFT_KINDS.map(([kind]) => (
                <td key={kind} style={cell} data-drift={kind}>
                  {drift[kind] ?? 0}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    ) : null}
    {canChange ? (
      <Button size="sm" variant="outlined" onClick={onReconcile} data-testid="reconcile-now">
        Reconcile now
      </Button>
    ) : null}
  </Box>
);

const CrmSyncActivity = () => {
  const connectionId = queryParam('connectionId');
  const state = usePage('crmSyncActivity', connectionId ? { connectionId } : {});
  const { data, rootPath } = state;
  const [notice, setNotice] = useState(null);
  const [fullLog, setFullLog] = useState(false);
  const [waiting, setWaiting] = useState(null);

  // After Sync Now, refresh until the queued run has finished (the page shows its counts and lines then).
  useEffect(() => {
    if (!waiting) return undefined;
    const timer = setTimeout(async () => {
      const body = await state.reload();
      const run = body.data && body.data.runs.find((r) => r.id === waiting);
      if (run && !['queued', 'running'].includes(run.status)) {
        setWaiting(null);
        setNotice({ type: run.status === 'failed' ? 'error' : 'success', message: `Sync ${run.status}.` });
      } else setWaiting(waiting);
    }, 1000);
    return () => clearTimeout(timer);
  }, [waiting, data]);

  const syncNow = async () => {
    setNotice(null);
    const result = await state.run('syncNow', { connectionId });
    if (result.error) return setNotice({ type: 'error', message: result.error });
    setNotice({ type: 'success', message: 'Sync queued.' });
    setWaiting(result.data.runId);
  };

  const reconcileNow = async () => {
    setNotice(null);
    const result = await state.run('reconcileNow', { connectionId });
    if (result.error) return setNotice({ type: 'error', message: result.error });
    setNotice({ type: 'success', message: result.data.queued ? 'Reconcile queued.' : 'A reconcile is already waiting.' });
    await state.reload();
  };

  if (!data) return <Loading state={state} />;
  const current = data.connections.find((c) => c.id === connectionId);
  return (
    <Box variant="grey" data-testid="crm-sync-activity">
      <Panel
        title={`Sync Activity${current ? `: ${current.displayName}` : ''}`}
        actions={
          data.canChange && connectionId ? (
            <Button variant="contained" onClick={syncNow} disabled={!!waiting} data-testid="sync-now">
              {waiting ? 'Syncing…' : 'Sync Now'}
            </Button>
          ) : null
        }
      >
        <Notice notice={notice} />
        <Box mb="lg">
          <label>
            Connection{' '}
            <select
              name="connection"
              value={connectionId || ''}
              onChange={(e) => window.location.assign(e.target.value ? `?connectionId=${e.target.value}` : '?')}
            >
              <option value="">All connections</option>
              {data.connections.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.displayName} {c.crmAccountName ? `(${c.crmAccountName})` : ''} — {c.tenantId}
                </option>
              ))}
            </select>
          </label>
          {current ? (
            <span>
              {' '}
              <StatusBadge value={current.status} /> <StatusBadge value={current.health} /> Last sync {timeAgo(current.lastSyncAt)}
            </span>
          ) : null}
        </Box>
        <SubTitle>Today's Activity</SubTitle>
        <Box mb="xl">
          <TodayCounts today={data.today} />
        </Box>
        {data.realtime ? (
          <Box>
            <SubTitle>Real-time</SubTitle>
            <Realtime realtime={data.realtime} configurationHref={`${rootPath}/pages/crmConfiguration?connectionId=${connectionId}`} />
          </Box>
        ) : null}
        {data.reconcile ? (
          <Box>
            <SubTitle>Reconcile</SubTitle>
            <Reconcile reconcile={data.reconcile} canChange={data.canChange} onReconcile={reconcileNow} />
          </Box>
        ) : null}
        <SubTitle>Recent Sync Log</SubTitle>
        <LogLines lines={data.recent} showConnection={!connectionId} />
        <Box mt="lg">
          <Button variant="outlined" onClick={() => setFullLog(!fullLog)} data-testid="view-full-log">
            {fullLog ? 'Hide Full Log' : 'View Full Log'}
          </Button>
        </Box>
      </Panel>
      {fullLog ? <FullLog state={state} connections={data.connections} connectionId={connectionId} /> : null}
      <Panel title="Recent runs" testId="recent-runs">
        {data.runs.length === 0 ? <Text>No run yet.</Text> : null}
        {data.runs.map((run) => (
          <Box key={run.id} mb="lg" data-run={run.id}>
            <Text mb="sm">
              {new Date(run.queuedAt).toLocaleString()} · {run.trigger} · <StatusBadge value={run.status} />
              {run.error ? ` · ${run.error}` : ''}
            </Text>
            <RunCounts rows={run.counts} />
          </Box>
        ))}
      </Panel>
      <Text>
        <a href={`${rootPath}/resources/CrmSyncRun`}>All sync runs</a>
      </Text>
    </Box>
  );
};

export default CrmSyncActivity;
