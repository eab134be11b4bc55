/** A contact's own text fields besides the e-mail: what the API edits and what field mappings map. */
export const CONTACT_TEXT_FIELDS = [
  'firstName',
  'lastName',
  'company',
  'title',
  'phone',
  'lifecycleStage',
  'leadStatus',
] as const;
export type ContactTextField = (typeof CONTACT_TEXT_FIELDS)[number];
