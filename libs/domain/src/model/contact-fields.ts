// One list of a contact's text fields, kept with the field-mapping types in the port: the API edits these, and a
// connector's default mapping names them.
export { CONTACT_TEXT_FIELDS, type ContactTextField } from '@pm/integration-port';
