// Shared pieces of the CRM screens: the call to a page's handler, badges coloured by meaning, counts and log lines.
import React, { useCallback, useEffect, useState } from 'react';
import { ApiClient } from 'adminjs';
import { Box, H2, H4, Text } from '@adminjs/design-system';

const api = new ApiClient();

/** Reads a page's data (GET with `query`) and runs its operations (POST `{ op, body }`); errors come back as text. */
export function usePage(pageName, query) {
  const [state, setState] = useState({ loading: true, data: null, error: null, rootPath: '' });
  const key = JSON.stringify(query || {});
  const load = useCallback(async () => {
    const response = await api.getPage({ pageName, params: JSON.parse(key) });
    const body = response.data || {};
    setState({ loading: false, data: body.data || null, error: body.error || null, rootPath: body.rootPath || '' });
    return body;
  }, [pageName, key]);
  useEffect(() => {
    load();
  }, [load]);
  const run = useCallback(
    async (op, input) => {
      const response = await api.getPage({
        pageName,
        method: 'post',
        data: { op, body: JSON.stringify(input || {}) },
      });
      return response.data || {};
    },
    [pageName],
  );
  return { ...state, reload: load, run };
}

export function queryParam(name) {
  return new URLSearchParams(window.location.search).get(name) || undefined;
}

const TONES = {
  good: { background: '#dcfce7', color: '#166534', border: '#86efac' },
  warn: { background: '#fef3c7', color: '#92400e', border: '#fcd34d' },
  bad: { background: '#fee2e2', color: '#991b1b', border: '#fca5a5' },
  off: { background: '#f3f4f6', color: '#374151', border: '#d1d5db' },
  info: { background: '#dbeafe', color: '#1e40af', border: '#93c5fd' },
};
const MEANING = {
  connected: 'good',
  healthy: 'good',
  succeeded: 'good',
  enabled: 'good',
  pending: 'warn',
  degraded: 'warn',
  needs_reconnect: 'warn',
  queued: 'info',
  running: 'info',
  partial: 'warn',
  error: 'bad',
  failed: 'bad',
  paused: 'bad',
  disabled: 'bad',
  disconnected: 'off',
  cancelled: 'off',
};

/** A status or health as a badge whose colour says what it means (green fine, amber attention, red broken). */
export function StatusBadge({ value, title }) {
  const tone = TONES[MEANING[value] || 'off'];
  return (
    <span
      data-badge={value}
      title={title || undefined}
      style={{
        display: 'inline-block',
        padding: '2px 10px',
        borderRadius: 12,
        fontSize: 12,
        fontWeight: 600,
        background: tone.background,
        color: tone.color,
        border: `1px solid ${tone.border}`,
      }}
    >
      {'● '}
      {String(value || 'unknown').replace(/_/g, ' ')}
    </span>
  );
}

/** "2 minutes ago". */
export function timeAgo(iso) {
  if (!iso) return 'never';
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'} ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} hour${hours === 1 ? '' : 's'} ago`;
  const days = Math.round(hours / 24);
  return `${days} day${days === 1 ? '' : 's'} ago`;
}

export function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function Panel({ title, actions, children, testId }) {
  return (
    <Box variant="card" mb="lg" data-testid={testId}>
      {(title || actions) && (
        <Box flex justifyContent="space-between" alignItems="center" mb="lg">
          {title ? <H2 mb="0">{title}</H2> : <span />}
          <Box flex style={{ gap: 8 }}>
            {actions}
          </Box>
        </Box>
      )}
      {children}
    </Box>
  );
}

export function Notice({ notice }) {
  if (!notice) return null;
  const tone = TONES[notice.type === 'error' ? 'bad' : 'good'];
  return (
    <Box
      role={notice.type === 'error' ? 'alert' : 'status'}
      mb="lg"
      p="default"
      style={{ background: tone.background, color: tone.color, border: `1px solid ${tone.border}`, borderRadius: 4 }}
    >
      {notice.message}
    </Box>
  );
}

const COUNT_LABELS = [
  ['contactsSynced', 'Contacts synced'],
  ['activitiesLogged', 'Activities logged'],
  ['conflictsResolved', 'Conflicts resolved'],
  ['errors', 'Errors'],
];

/** The seed's "Today's Activity". */
export function TodayCounts({ today }) {
  return (
    <Box as="ul" data-testid="today-counts" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
      {COUNT_LABELS.map(([key, label]) => (
        <li key={key} data-count={key} style={{ padding: '2px 0' }}>
          • {label}: <strong>{(today && today[key]) || 0}</strong>
        </li>
      ))}
    </Box>
  );
}

/** The seed's "Recent Sync Log": time, arrow for the direction, the line. */
export function LogLines({ lines, showConnection }) {
  if (!lines || lines.length === 0) return <Text color="grey60">Nothing logged yet.</Text>;
  return (
    <Box
      as="ul"
      data-testid="log-lines"
      style={{ listStyle: 'none', padding: 8, margin: 0, border: '1px solid #e5e7eb', borderRadius: 4, fontFamily: 'monospace' }}
    >
      {lines.map((line) => (
        <li key={line.id} data-action={line.action} style={{ padding: '3px 0', color: line.action === 'error' ? '#991b1b' : undefined }}>
          <span style={{ color: '#6b7280' }}>{clock(line.at)}</span>{' '}
          <span title={line.direction} style={{ display: 'inline-block', width: 18, textAlign: 'center' }}>
            {line.arrow}
          </span>{' '}
          {line.message}
          {showConnection && line.provider ? <span style={{ color: '#6b7280' }}> ({line.provider})</span> : null}
        </li>
      ))}
    </Box>
  );
}

/** A run's counts as a table: one row per direction and object. */
export function RunCounts({ rows }) {
  if (!rows || rows.length === 0) return <Text color="grey60">No records counted.</Text>;
  const cell = { padding: '4px 10px', borderBottom: '1px solid #e5e7eb', textAlign: 'left' };
  const columns = ['created', 'updated', 'skipped', 'conflicts', 'errors', 'deleted'];
  return (
    <table data-testid="run-counts" style={{ borderCollapse: 'collapse', fontSize: 13 }}>
      <thead>
        <tr>
          <th style={cell}>Direction</th>
          <th style={cell}>Object</th>
          {columns.map((column) => (
            <th key={column} style={cell}>
              {column[0].toUpperCase() + column.slice(1)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={`${row.direction}-${row.object}`}>
            <td style={cell}>{row.direction === 'to_crm' ? '→ to the CRM' : row.direction === 'from_crm' ? '← from the CRM' : row.direction}</td>
            <td style={cell}>{row.object}</td>
            {columns.map((column) => (
              <td key={column} style={cell}>
                {row[column]}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Loading({ state }) {
  if (state.loading) return <Text>Loading…</Text>;
  if (state.error) return <Notice notice={{ type: 'error', message: state.error }} />;
  return null;
}

export const SubTitle = H4;
