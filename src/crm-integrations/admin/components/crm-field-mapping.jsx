// The Field mapping page: PenguinMails fields beside the CRM's, a direction per row, value maps and formulas per
// direction, a live preview on a sample contact and validation beside each row. Row N is fields[N] of the mapping.
import React, { useEffect, useRef, useState } from 'react';
import { Box, Button, Text } from '@adminjs/design-system';
import { Loading, Notice, Panel, SubTitle, queryParam, usePage } from './crm-ui.jsx';
import MatchingKey from './crm-matching-key.jsx';

const cell = { padding: '6px 8px', borderBottom: '1px solid #e5e7eb', textAlign: 'left', verticalAlign: 'top' };
const ARROW = { both: '⇄', to_crm: '→', from_crm: '←' };
const small = { fontSize: 12, color: '#6b7280' };
const errorStyle = { color: '#b91c1c', fontSize: 13 };

/** A value map as editable text, one `from = to` a line. */
const mapText = (map) => Object.entries(map || {}).map(([from, to]) => `${from} = ${to}`).join('\n');
const textMap = (text) => {
  const map = {};
  for (const line of (text || '').split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) map[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return Object.keys(map).length ? map : undefined;
};

/** The page keeps value maps as text while they are typed; the service gets the rows without it. */
const editable = (row) => ({ ...row, maps: { toCrm: mapText(row.valueMap && row.valueMap.toCrm), fromCrm: mapText(row.valueMap && row.valueMap.fromCrm) } });
const sent = ({ maps, ...row }) => {
  const valueMap = { toCrm: textMap(maps.toCrm), fromCrm: textMap(maps.fromCrm) };
  const formula = { toCrm: (row.formula && row.formula.toCrm) || undefined, fromCrm: (row.formula && row.formula.fromCrm) || undefined };
  return {
    ...row,
    valueMap: valueMap.toCrm || valueMap.fromCrm ? valueMap : undefined,
    formula: formula.toCrm || formula.fromCrm ? formula : undefined,
  };
};

const shown = (value) => (value === null || value === undefined ? '(empty)' : JSON.stringify(value));

function RowPreview({ result }) {
  if (!result) return <span style={small}>—</span>;
  if ('error' in result) return <span style={errorStyle}>formula error: {result.error}</span>;
  return <code>{shown(result.value)}</code>;
}

function ReadOnlyRules({ row }) {
  const parts = [];
  if (row.formula && row.formula.toCrm) parts.push(`→ ${row.formula.toCrm}`);
  if (row.formula && row.formula.fromCrm) parts.push(`← ${row.formula.fromCrm}`);
  if (row.valueMap && row.valueMap.toCrm) parts.push(`→ ${JSON.stringify(row.valueMap.toCrm)}`);
  if (row.valueMap && row.valueMap.fromCrm) parts.push(`← ${JSON.stringify(row.valueMap.fromCrm)}`);
  return parts.length ? parts.map((part) => <div key={part}>{part}</div>) : '—';
}

const CrmFieldMapping = () => {
  const connectionId = queryParam('connectionId');
  const state = usePage('crmFieldMapping', connectionId ? { connectionId } : {});
  const { data, rootPath } = state;
  const [objectIndex, setObjectIndex] = useState(0);
  const [rows, setRows] = useState(null);
  // The matching key of a contact object: { matchLocalField, matchField } (companies have none).
  const [key, setKey] = useState({});
  // One sample per kind of record: a contact for contact objects, a company for company objects.
  const [samples, setSamples] = useState(null);
  const [preview, setPreview] = useState(null);
  const [saveErrors, setSaveErrors] = useState(null);
  const [notice, setNotice] = useState(null);
  const latest = useRef(0);
  const object = data && data.objects ? data.objects[objectIndex] : null;
  const subject = object && object.subject === 'company' ? 'company' : 'contact';
  const sample = samples ? samples[subject] : null;
  const setSample = (next) => setSamples({ ...samples, [subject]: next });

  useEffect(() => {
    if (object) setRows(object.rows.map(editable));
    if (object) setKey(object.matchField ? { matchField: object.matchField, matchLocalField: object.matchLocalField || 'email' } : {});
    if (data && data.sample && !samples) setSamples({ contact: data.sample, company: data.companySample || {} });
  }, [data, objectIndex]);

  // The preview (and what saving would say) follows every edit, a moment after typing stops; only the latest
  // answer is shown.
  useEffect(() => {
    if (!object || !rows || !sample) return undefined;
    const asked = ++latest.current;
    const timer = setTimeout(() => {
      state.run('preview', { connectionId, object: object.object, rows: rows.map(sent), sample, ...key }).then((result) => {
        if (asked !== latest.current) return;
        setPreview(result.error ? { crm: {}, rows: {}, errors: { [-1]: result.error } } : result.data);
      });
    }, 200);
    return () => clearTimeout(timer);
  }, [rows, sample, key]);

  if (!connectionId) return <Panel title="Field mapping">Open it from a connection's Configuration page.</Panel>;
  if (!data || !rows || !sample) return <Loading state={state} />;
  const canChange = data.canChange;
  const crmName = data.connection.displayName;
  const change = (next) => {
    setSaveErrors(null);
    setNotice(null);
    setRows(next);
  };
  const changeKey = (patch) => {
    setSaveErrors(null);
    setNotice(null);
    setKey({ ...key, ...patch });
  };
  const keyLocalFields = ['email', ...data.localFields.filter((f) => f.startsWith('customFields.'))];
  const setRow = (index, patch) => change(rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));
  const setIn = (index, key, direction, value) => setRow(index, { [key]: { ...(rows[index][key] || {}), [direction]: value } });
  const errors = saveErrors || (preview ? preview.errors : {});
  const results = (preview && preview.rows) || {};
  const sampleKeys = [...new Set([...Object.keys(sample), ...rows.map((row) => row.local).filter((local) => local && local.startsWith('customFields.'))])];
  const crmFieldNames = object.crmFields.map((f) => f.name);
  const save = async () => {
    const result = await state.run('save', { connectionId, object: object.object, rows: rows.map(sent), ...key });
    const found = result.data ? result.data.errors : { [-1]: result.error };
    if (result.error || Object.keys(found).length) {
      setSaveErrors(found);
      setNotice({ type: 'error', message: 'The mapping was not saved: see the errors beside the rows.' });
    } else {
      setSaveErrors(null);
      setNotice({ type: 'success', message: `Mapping saved (version ${result.data.version}).` });
    }
  };

  return (
    <Box variant="grey" data-testid="crm-field-mapping">
      <Panel
        title={`${crmName} Field Mapping`}
        actions={<a href={`${rootPath}/pages/crmConfiguration?connectionId=${connectionId}`}>Back to Configuration</a>}
      >
        <Notice notice={notice} />
        {data.note ? <Text mb="lg" color="grey60">{data.note}</Text> : null}
        {!canChange ? <Text mb="lg" color="grey60">You can look at this mapping but not change it.</Text> : null}
        <Box mb="lg" flex style={{ gap: 24, alignItems: 'center' }}>
          {data.objects.length > 1 ? (
            <label>
              Object{' '}
              <select name="object" value={objectIndex} onChange={(e) => setObjectIndex(Number(e.target.value))}>
                {data.objects.map((o, i) => (
                  <option key={o.object} value={i}>
                    {o.object}
                    {o.subject === 'company' ? ' (companies)' : ''}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          {object.matchField ? (
            <MatchingKey value={key} onChange={changeKey} canChange={canChange} crmName={crmName} crmFields={object.crmFields} localFields={keyLocalFields} />
          ) : null}
        </Box>
        {errors[-1] ? (
          <div role="alert" data-error-for-row="-1" style={{ ...errorStyle, marginBottom: 12 }}>
            {errors[-1]}
          </div>
        ) : null}
        <datalist id="pm-local-fields">
          {(object.localFields || data.localFields).map((f) => (
            <option key={f} value={f} />
          ))}
          <option value="customFields." />
        </datalist>
        <table data-testid="mapping-rows" data-object={object.object} data-subject={subject} style={{ borderCollapse: 'collapse', width: '100%' }}>
          <thead>
            <tr>
              <th style={cell}>#</th>
              <th style={cell}>PenguinMails field</th>
              <th style={cell}>Direction</th>
              <th style={cell}>{crmName} field</th>
              <th style={cell}>Formulas / value maps</th>
              <th style={cell}>Preview</th>
              <th style={cell}></th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => (
              <tr key={index} data-row={index} data-local={row.local} style={errors[index] ? { background: '#fef2f2' } : undefined}>
                <td style={cell}>{index}</td>
                <td style={cell}>
                  {canChange ? (
                    <input
                      aria-label={`PenguinMails field of row ${index}`}
                      list="pm-local-fields"
                      style={{ width: 150 }}
                      value={row.local || ''}
                      placeholder="(computed by a formula)"
                      onChange={(e) => setRow(index, { local: e.target.value })}
                    />
                  ) : (
                    row.local || <span style={small}>(computed)</span>
                  )}
                </td>
                <td style={cell} title={row.direction}>
                  {canChange ? (
                    <select aria-label={`Direction of row ${index}`} value={row.direction} onChange={(e) => setRow(index, { direction: e.target.value })}>
                      <option value="both">⇄ both ways</option>
                      <option value="to_crm">→ to the CRM</option>
                      <option value="from_crm">← from the CRM</option>
                    </select>
                  ) : (
                    `${ARROW[row.direction]} ${row.direction.replace('_', ' ')}`
                  )}
                </td>
                <td style={cell}>
                  {canChange ? (
                    <select aria-label={`${crmName} field of row ${index}`} style={{ maxWidth: 200 }} value={row.crm || ''} onChange={(e) => setRow(index, { crm: e.target.value || null })}>
                      <option value="">(none)</option>
                      {row.crm && !crmFieldNames.includes(row.crm) ? <option value={row.crm}>{row.crm} (unknown)</option> : null}
                      {object.crmFields.map((f) => (
                        <option key={f.name} value={f.name}>
                          {`${f.label} (${f.name}${f.custom ? ', custom' : ''}${f.required ? ', required' : ''})`}
                        </option>
                      ))}
                    </select>
                  ) : (
                    row.crm || <span style={small}>—</span>
                  )}
                  {row.associated ? <div style={small}>via {row.associated}</div> : null}
                </td>
                <td style={cell}>
                  {canChange ? (
                    <Box flex flexDirection="column" style={{ gap: 4 }}>
                      <input
                        aria-label={`To-CRM formula of row ${index}`}
                        value={(row.formula && row.formula.toCrm) || ''}
                        placeholder={`→ formula over the ${subject}`}
                        onChange={(e) => setIn(index, 'formula', 'toCrm', e.target.value)}
                        style={{ width: 210 }}
                      />
                      <input
                        aria-label={`From-CRM formula of row ${index}`}
                        value={(row.formula && row.formula.fromCrm) || ''}
                        placeholder="← formula over the CRM record"
                        onChange={(e) => setIn(index, 'formula', 'fromCrm', e.target.value)}
                        style={{ width: 210 }}
                      />
                      <details open={!!(row.maps.toCrm || row.maps.fromCrm)}>
                        <summary style={small}>Value maps</summary>
                        <textarea
                          aria-label={`To-CRM value map of row ${index}`}
                          rows={2}
                          placeholder="→ one a line: customer = Customer"
                          value={row.maps.toCrm}
                          onChange={(e) => setIn(index, 'maps', 'toCrm', e.target.value)}
                          style={{ width: 210 }}
                        />
                        <textarea
                          aria-label={`From-CRM value map of row ${index}`}
                          rows={2}
                          placeholder="← one a line: Customer = customer"
                          value={row.maps.fromCrm}
                          onChange={(e) => setIn(index, 'maps', 'fromCrm', e.target.value)}
                          style={{ width: 210 }}
                        />
                      </details>
                    </Box>
                  ) : (
                    <ReadOnlyRules row={row} />
                  )}
                </td>
                <td style={{ ...cell, minWidth: 180, maxWidth: 280 }} data-testid={`row-preview-${index}`}>
                  {row.direction === 'from_crm' ? <span style={small}>(from the CRM)</span> : <RowPreview result={results[index]} />}
                  {errors[index] ? (
                    <div role="alert" data-error-for-row={index} style={errorStyle}>
                      {errors[index]}
                    </div>
                  ) : null}
                </td>
                <td style={cell}>
                  {canChange ? (
                    <button type="button" aria-label={`Remove row ${index}`} onClick={() => change(rows.filter((_, i) => i !== index))}>
                      ✕
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {canChange ? (
          <Box mt="lg" flex style={{ gap: 12 }}>
            <Button type="button" variant="outlined" data-testid="add-mapping-row" onClick={() => change([...rows, editable({ local: '', crm: null, direction: 'to_crm' })])}>
              Add row
            </Button>
            <Button variant="contained" onClick={save} data-testid="save-mapping">
              Save Mapping
            </Button>
          </Box>
        ) : null}
      </Panel>
      <Panel title={`Preview on a sample ${subject}`} testId="mapping-preview">
        <Box flex style={{ gap: 40 }}>
          <Box>
            <SubTitle>PenguinMails {subject}</SubTitle>
            {sampleKeys.map((key) => (
              <div key={key} style={{ padding: '2px 0' }}>
                <label>
                  <span style={{ display: 'inline-block', width: 160 }}>{key}</span>
                  <input aria-label={`Sample ${key}`} value={sample[key] || ''} onChange={(e) => setSample({ ...sample, [key]: e.target.value })} />
                </label>
              </div>
            ))}
          </Box>
          <Box>
            <SubTitle>As {crmName} receives it</SubTitle>
            <pre data-testid="preview-crm" style={{ background: '#f9fafb', padding: 12, border: '1px solid #e5e7eb' }}>
              {preview ? JSON.stringify(preview.crm, null, 2) : '…'}
            </pre>
          </Box>
        </Box>
      </Panel>
      <Panel title={`${crmName} fields`}>
        <Text>{object.crmFields.map((f) => `${f.label} (${f.type}${f.custom ? ', custom' : ''})`).join(' · ')}</Text>
      </Panel>
    </Box>
  );
};

export default CrmFieldMapping;
