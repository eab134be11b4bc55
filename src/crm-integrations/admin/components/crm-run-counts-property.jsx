// A sync run's counts on its show page: a readable table instead of raw JSON.
import React from 'react';
import { FormGroup, Label } from '@adminjs/design-system';
import { RunCounts } from './crm-ui.jsx';

function rows(text) {
  let counts = {};
  try {
    counts = typeof text === 'string' ? JSON.parse(text) : text || {};
  } catch (error) {
    counts = {};
  }
  const out = [];
  Object.keys(counts).forEach((direction) =>
    Object.keys(counts[direction] || {}).forEach((object) => out.push({ direction, object, ...counts[direction][object] })),
  );
  return out;
}

const CrmRunCountsProperty = ({ record, property }) => (
  <FormGroup>
    <Label>{property.label}</Label>
    <RunCounts rows={rows(record.params[property.path])} />
  </FormGroup>
);

export default CrmRunCountsProperty;
