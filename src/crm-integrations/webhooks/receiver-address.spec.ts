import { isNonPublicAddress, resolvedReceiverProblem, writtenReceiverProblem } from './receiver-address';

describe('where webhooks may go', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.20.0.1', true],
    ['192.168.1.10', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['fd12::1', true],
    ['fe80::1', true],
    ['::ffff:127.0.0.1', true],
    ['93.184.216.34', false],
    ['172.32.0.1', false],
    ['2606:4700::1111', false],
    ['::ffff:93.184.216.34', false],
  ])('%s is non-public: %s', (address, expected) => {
    expect(isNonPublicAddress(address)).toBe(expected);
  });

  it('refuses local names and private addresses as written, naming the host', () => {
    expect(writtenReceiverProblem('http://localhost:3000/hook')).toMatch(/localhost is local or private/);
    expect(writtenReceiverProblem('http://169.254.169.254/latest/meta-data')).toMatch(/169\.254\.169\.254/);
    expect(writtenReceiverProblem('http://[::1]:8080/hook')).toMatch(/::1/);
    expect(writtenReceiverProblem('http://db.internal:5432/')).toMatch(/db\.internal/);
    expect(writtenReceiverProblem('https://hooks.example.com/crm')).toBeNull();
  });

  it('refuses a public-looking name that resolves to a private address, at send time', async () => {
    const resolvesTo = (address: string) => () =>
      Promise.resolve([{ address: '93.184.216.34' }, { address }]);
    await expect(
      resolvedReceiverProblem('https://hooks.example.com/crm', resolvesTo('10.0.0.5')),
    ).resolves.toBe('url must reach a public address (hooks.example.com resolves to 10.0.0.5)');
    await expect(
      resolvedReceiverProblem('https://hooks.example.com/crm', resolvesTo('93.184.216.35')),
    ).resolves.toBeNull();
  });
});
