// The matching key of a contact object on the Field mapping page: a PenguinMails field (email or a custom field)
// beside a CRM field from discovery. Unlinked records are matched on it first, then on the e-mail.
import React from 'react';
import { Box } from '@adminjs/design-system';

const small = { fontSize: 12, color: '#6b7280' };

const MatchingKey = ({ value, onChange, canChange, crmName, crmFields, localFields }) => {
  const names = crmFields.map((f) => f.name);
  return (
    <Box data-testid="matching-key" flex style={{ gap: 8, alignItems: 'center' }}>
      <span>Matching key</span>
      {canChange ? (
        <>
          <input
            aria-label="Matching key PenguinMails field"
            list="pm-key-fields"
            style={{ width: 190 }}
            value={value.matchLocalField || ''}
            onChange={(e) => onChange({ matchLocalField: e.target.value })}
          />
          <datalist id="pm-key-fields">
            {localFields.map((f) => (
              <option key={f} value={f} />
            ))}
            <option value="customFields." />
          </datalist>
          <span>⇄</span>
          <select
            aria-label={`Matching key ${crmName} field`}
            style={{ maxWidth: 220 }}
            value={value.matchField || ''}
            onChange={(e) => onChange({ matchField: e.target.value })}
          >
            {value.matchField && !names.includes(value.matchField) ? <option value={value.matchField}>{value.matchField} (unknown)</option> : null}
            {crmFields.map((f) => (
              <option key={f.name} value={f.name}>
                {`${f.label} (${f.name}, ${f.type}${f.custom ? ', custom' : ''})`}
              </option>
            ))}
          </select>
        </>
      ) : (
        <code>
          {value.matchLocalField} ⇄ {value.matchField}
        </code>
      )}
      <span style={small}>unlinked records are matched on it first, then on the e-mail</span>
    </Box>
  );
};

export default MatchingKey;
