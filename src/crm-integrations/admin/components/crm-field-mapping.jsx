// The Field mapping page: PenguinMails fields beside the CRM's, a direction per row, and a live preview on a sample.
import React, { useEffect, useState } from 'react';
import { Box, Button, Text } from '@adminjs/design-system';
import { Loading, Notice, Panel, SubTitle, queryParam, usePage } from './crm-ui.jsx';

const cell = { padding: '6px 10px', borderBottom: '1px solid #e5e7eb', textAlign: 'left', verticalAlign: 'top' };
const ARROW = { both: '⇄', to_crm: '→', from_crm: '←' };

const CrmFieldMapping = () => {
  const connectionId = queryParam('connectionId');
  const state = usePage('crmFieldMapping', connectionId ? { connectionId } : {});
  const { data, rootPath } = state;
  const [objectIndex, setObjectIndex] = useState(0);
  const [rows, setRows] = useState(null);
  const [sample, setSample] = useState(null);
  const [preview, setPreview] = useState(null);
  const [notice, setNotice] = useState(null);
  const object = data && data.objects ? data.objects[objectIndex] : null;

  useEffect(() => {
    if (object) setRows(object.rows);
    if (data && data.sample && !sample) setSample(data.sample);
  }, [data, objectIndex]);

  // The preview follows every edit of the rows or the sample contact.
  useEffect(() => {
    if (!object || !rows || !sample) return;
    state.run('preview', { connectionId, object: object.object, rows, sample }).then((result) => {
      setPreview(result.error ? { crm: {}, errors: { [-1]: result.error } } : result.data);
    });
  }, [rows, sample]);

  if (!connectionId) return <Panel title="Field mapping">Open it from a connection's Configuration page.</Panel>;
  if (!data || !rows || !sample) return <Loading state={state} />;
  const editable = data.canChange;
  const setRow = (index, key, value) => setRows(rows.map((row, i) => (i === index ? { ...row, [key]: value } : row)));
  const save = async () => {
    const result = await state.run('save', { connectionId, object: object.object, rows });
    const errors = result.data ? result.data.errors : {};
    setNotice(result.error || Object.keys(errors).length ? { type: 'error', message: result.error || Object.values(errors).join('; ') } : { type: 'success', message: 'Mapping saved.' });
  };

  return (
    <Box variant="grey" data-testid="crm-field-mapping">
      <Panel
        title={`${data.connection.displayName} Field Mapping`}
        actions={<a href={`${rootPath}/pages/crmConfiguration?connectionId=${connectionId}`}>Back to Configuration</a>}
      >
        <Notice notice={notice} />
        {data.note ? <Text mb="lg" color="grey60">{data.note}</Text> : null}
        {data.objects.length > 1 ? (
          <Box mb="lg">
            <label>
              Object{' '}
              <select name="object" value={objectIndex} onChange={(e) => setObjectIndex(Number(e.target.value))}>
                {data.objects.map((o, i) => (
                  <option key={o.object} value={i}>
                    {o.object}
                  </option>
                ))}
              </select>
            </label>
          </Box>
        ) : null}
        <table data-testid="mapping-rows" style={{ borderCollapse: 'collapse', width: '100%' }}>
          <thead>
            <tr>
              <th style={cell}>PenguinMails field</th>
              <th style={cell}>Direction</th>
              <th style={cell}>{data.connection.displayName} field</th>
              <th style={cell}>Value map / formula</th>
              <th style={cell}></th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => (
              <tr key={index} data-local={row.local}>
                <td style={cell}>
                  {editable ? (
                    <select value={row.local} onChange={(e) => setRow(index, 'local', e.target.value)}>
                      {data.localFields.map((f) => (
                        <option key={f}>{f}</option>
                      ))}
                    </select>
                  ) : (
                    row.local
                  )}
                </td>
                <td style={cell} title={row.direction}>
                  {editable ? (
                    <select aria-label={`Direction of ${row.local}`} value={row.direction} onChange={(e) => setRow(index, 'direction', e.target.value)}>
                      <option value="both">⇄ both ways</option>
                      <option value="to_crm">→ to the CRM</option>
                      <option value="from_crm">← from the CRM</option>
                    </select>
                  ) : (
                    `${ARROW[row.direction]} ${row.direction.replace('_', ' ')}`
                  )}
                </td>
                <td style={cell}>
                  {editable ? (
                    <select value={row.crm || ''} onChange={(e) => setRow(index, 'crm', e.target.value || null)}>
                      <option value="">(none)</option>
                      {object.crmFields.map((f) => (
                        <option key={f.name} value={f.name}>
                          {f.label}
                        </option>
                      ))}
                    </select>
                  ) : (
                    row.crm || <span style={{ color: '#6b7280' }}>{row.associated ? `via ${row.associated}` : '—'}</span>
                  )}
                </td>
                <td style={cell}>
                  {editable ? (
                    <input
                      aria-label={`Formula of ${row.local}`}
                      value={row.formula || ''}
                      placeholder="formula, e.g. $uppercase(firstName)"
                      onChange={(e) => setRow(index, 'formula', e.target.value || undefined)}
                    />
                  ) : (
                    row.formula || (row.valueMap ? JSON.stringify(row.valueMap) : '—')
                  )}
                </td>
                <td style={cell}>
                  {preview && preview.errors[index] ? (
                    <span role="alert" style={{ color: '#b91c1c' }}>
                      {preview.errors[index]}
                    </span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {editable ? (
          <Box mt="lg">
            <Button variant="contained" onClick={save} data-testid="save-mapping">
              Save Mapping
            </Button>
          </Box>
        ) : null}
      </Panel>
      <Panel title="Preview on a sample contact" testId="mapping-preview">
        <Box flex style={{ gap: 40 }}>
          <Box>
            <SubTitle>PenguinMails contact</SubTitle>
            {Object.keys(sample).map((key) => (
              <div key={key} style={{ padding: '2px 0' }}>
                <label>
                  <span style={{ display: 'inline-block', width: 120 }}>{key}</span>
                  <input aria-label={`Sample ${key}`} value={sample[key]} onChange={(e) => setSample({ ...sample, [key]: e.target.value })} />
                </label>
              </div>
            ))}
          </Box>
          <Box>
            <SubTitle>As {data.connection.displayName} receives it</SubTitle>
            <pre data-testid="preview-crm" style={{ background: '#f9fafb', padding: 12, border: '1px solid #e5e7eb' }}>
              {preview ? JSON.stringify(preview.crm, null, 2) : '…'}
            </pre>
            {preview && preview.errors[-1] ? <Notice notice={{ type: 'error', message: preview.errors[-1] }} /> : null}
          </Box>
        </Box>
      </Panel>
      <Panel title={`${data.connection.displayName} fields`}>
        <Text>{object.crmFields.map((f) => `${f.label} (${f.type})`).join(' · ')}</Text>
      </Panel>
    </Box>
  );
};

export default CrmFieldMapping;
