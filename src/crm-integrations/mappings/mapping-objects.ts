import {
  companyMappingAsObjectMapping,
  DefaultCompanyMappingSource,
  DefaultFieldMappingSource,
  syncableCompanyObjects,
  syncableObjects,
} from '@pm/sync-engine';
import type { IntegrationPort, ObjectMapping } from '@pm/integration-port';
import { ValidationProblem } from '../http/problem-details.filter';
import type { PreviewMappingDto } from './field-mapping.dto';
import type { MappingSubject } from './mapping-recomparison';

/**
 * Which objects of a connection have a mapping, and of what: contact objects (the connector's `defaultMappings`)
 * and company objects (its `defaultCompanyMappings`, stored in the contacts' shape). One place, so the mapping API
 * lists, validates and previews both alike.
 */

/** The objects a connection can sync: its contact objects, then its company objects. */
export function syncableMappingObjects(port: IntegrationPort): string[] {
  return [...syncableObjects(port), ...syncableCompanyObjects(port.capabilities())];
}

export function mappingSubject(port: IntegrationPort, object: string): MappingSubject {
  return syncableCompanyObjects(port.capabilities()).includes(object) ? 'company' : 'contact';
}

/** The connector's default mapping of the object, in the stored shape (a company's as `ObjectMapping`). */
export function defaultMappingOf(port: IntegrationPort, object: string): ObjectMapping | undefined {
  const company = new DefaultCompanyMappingSource(port.capabilities()).companyMappingFor(null, object);
  if (company) return companyMappingAsObjectMapping(company);
  return new DefaultFieldMappingSource(port).mappingFor(null, object);
}

/** A preview needs a sample: a contact's for contact objects, a company's for company objects. */
export function requirePreviewSample(dto: PreviewMappingDto, company: boolean): void {
  if (company && (dto.contactId || dto.email)) {
    throw new ValidationProblem([
      {
        name: dto.contactId ? 'contactId' : 'email',
        reason: `"${dto.object}" is a company object: give companyId or crmRecordId`,
      },
    ]);
  }
  if (!company && dto.companyId) {
    throw new ValidationProblem([
      {
        name: 'companyId',
        reason: `"${dto.object}" is a contact object: give contactId, crmRecordId or email`,
      },
    ]);
  }
  if (company ? !dto.companyId && !dto.crmRecordId : !dto.contactId && !dto.crmRecordId && !dto.email) {
    throw new ValidationProblem([
      company
        ? { name: 'companyId', reason: 'give a sample record: companyId or crmRecordId' }
        : { name: 'contactId', reason: 'give a sample record: contactId, crmRecordId or email' },
    ]);
  }
}
