import { createQueueIfMissing } from './create-queue';

const deadlock = () => Object.assign(new Error('deadlock detected'), { code: '40P01' });

describe('createQueueIfMissing', () => {
  it('tries again when PostgreSQL aborts a concurrent queue creation as a deadlock', async () => {
    const createQueue = jest
      .fn()
      .mockRejectedValueOnce(deadlock())
      .mockRejectedValueOnce(deadlock())
      .mockResolvedValueOnce(undefined);
    await createQueueIfMissing({ createQueue }, 'contact-sync', { name: 'contact-sync' });
    expect(createQueue).toHaveBeenCalledTimes(3);
  });

  it('passes any other failure on at once, and gives up on a deadlock that keeps coming back', async () => {
    const refused = jest
      .fn()
      .mockRejectedValue(Object.assign(new Error('permission denied'), { code: '42501' }));
    await expect(createQueueIfMissing({ createQueue: refused }, 'q', { name: 'q' })).rejects.toThrow(
      'permission denied',
    );
    expect(refused).toHaveBeenCalledTimes(1);
    const stuck = jest.fn().mockRejectedValue(deadlock());
    await expect(createQueueIfMissing({ createQueue: stuck }, 'q', { name: 'q' })).rejects.toThrow(
      'deadlock',
    );
    expect(stuck).toHaveBeenCalledTimes(5);
  });
});
