// A status or health column in the generated resources, as a badge coloured by meaning.
import React from 'react';
import { FormGroup, Label } from '@adminjs/design-system';
import { StatusBadge } from './crm-ui.jsx';

const CrmStatusProperty = ({ record, property, where }) => {
  const badge = <StatusBadge value={record.params[property.path]} />;
  if (where === 'list') return badge;
  return (
    <FormGroup>
      <Label>{property.label}</Label>
      {badge}
    </FormGroup>
  );
};

export default CrmStatusProperty;
