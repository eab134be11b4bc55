import { ArrayMaxSize, IsArray, IsString } from 'class-validator';
import { IngestActivitiesDto } from '../activities/activity-event.dto';
import { ValidationProblem } from './problem-details.filter';
import { apiValidationPipe, ItemsCheckedByRoute } from './validation.pipe';

class TaggedBatch {
  @IsString() name!: string;
  @IsArray() @ArrayMaxSize(3) @ItemsCheckedByRoute() items!: unknown[];
}

const body = (metatype: new () => object) => ({ type: 'body' as const, metatype });

async function refusal(value: unknown, metatype: new () => object) {
  const error: unknown = await apiValidationPipe.transform(value, body(metatype)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationProblem);
  return (error as ValidationProblem).invalidParams;
}

describe('the API validation pipe on items a route checks one by one', () => {
  it('hands the route the items as they came, in the DTO', async () => {
    const events = [{ eventId: 'e1', type: 'sent' }, 'not an object', { deep: { er: [1] } }];
    const checked = (await apiValidationPipe.transform(
      { events },
      body(IngestActivitiesDto),
    )) as IngestActivitiesDto;
    expect(checked).toBeInstanceOf(IngestActivitiesDto);
    expect(checked.events).toBe(events);
  });

  it('still checks the array itself and the rest of the body, naming the field', async () => {
    expect(await refusal({ events: 'all of them' }, IngestActivitiesDto)).toEqual([
      { name: 'events', reason: 'events must be an array' },
    ]);
    expect(await refusal({ events: [], extra: 1 }, IngestActivitiesDto)).toEqual([
      { name: 'extra', reason: 'property extra should not exist' },
    ]);
    expect(await refusal({ name: 'n', items: [1, 2, 3, 4] }, TaggedBatch)).toEqual([
      { name: 'items', reason: 'items must contain no more than 3 elements' },
    ]);
    expect(await refusal({ name: 7, items: [1] }, TaggedBatch)).toEqual([
      { name: 'name', reason: 'name must be a string' },
    ]);
  });
});
