import {
  getMetadataStorage,
  ValidationTypes,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';

/** Says whether a plain object passes its DTO's rules; false means "ask class-validator", never "invalid for sure". */
export type QuickDtoCheck = (value: Record<string, unknown>) => boolean;

interface PropertyRules {
  name: string;
  /** @IsOptional / @ValidateIf: the property's rules apply only when every one of these holds. */
  conditions: ((object: object, value: unknown) => boolean)[];
  rules: {
    constraints: unknown[];
    validateIf?: (object: object, value: unknown) => boolean;
    validators: ValidatorConstraintInterface[];
  }[];
}

/**
 * A quick yes for a flat DTO, built once from the DTO's own class-validator rules (the whitelist, @IsOptional and
 * @ValidateIf conditions, and each constraint's own validate function), for routes that check many objects one by
 * one: class-validator's per-call work (the metadata look-up over every DTO, grouping, error objects) and
 * class-transformer's copy cost ~45 µs an object under load, several times the checks themselves. It decides only
 * "valid": anything else goes to class-validator, whose errors name the fields, so messages never differ. Returns
 * undefined for a DTO that uses what this does not mirror (nested or promised values, `each`, groups, async or
 * defined-only rules, property defaults), so such a DTO always takes class-validator's path.
 */
export function compileQuickDtoCheck(dto: new () => object): QuickDtoCheck | undefined {
  // A property default would be set by class-transformer on the copy class-validator sees, not on the plain object.
  if (Object.values(new dto()).some((value) => value !== undefined)) return undefined;
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(dto, '', false, false);
  if (metadatas.length === 0) return undefined;
  const properties = new Map<string, PropertyRules>();
  for (const metadata of metadatas) {
    if (metadata.each || (metadata.groups?.length ?? 0) > 0) return undefined;
    const property = properties.get(metadata.propertyName) ?? {
      name: metadata.propertyName,
      conditions: [],
      rules: [],
    };
    properties.set(metadata.propertyName, property);
    if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      property.conditions.push(metadata.constraints[0] as PropertyRules['conditions'][number]);
    } else if (metadata.type === ValidationTypes.CUSTOM_VALIDATION) {
      const constraints = storage.getTargetValidatorConstraints(metadata.constraintCls);
      if (constraints.some((constraint) => constraint.async)) return undefined;
      property.rules.push({
        constraints: metadata.constraints,
        validateIf: metadata.validateIf,
        validators: constraints.map((constraint) => constraint.instance),
      });
    } else if (metadata.type !== ValidationTypes.WHITELIST) {
      return undefined;
    }
  }
  const list = [...properties.values()];
  const targetName = dto.name;
  return (object) => {
    for (const key of Object.keys(object)) if (!properties.has(key)) return false;
    for (const property of list) {
      const value = object[property.name];
      if (!property.conditions.every((condition) => condition(object, value))) continue;
      for (const rule of property.rules) {
        if (rule.validateIf && !rule.validateIf(object, value)) continue;
        const args: ValidationArguments = {
          targetName,
          property: property.name,
          object,
          value,
          constraints: rule.constraints,
        };
        for (const validator of rule.validators) {
          if (validator.validate(value, args) !== true) return false;
        }
      }
    }
    return true;
  };
}
