// A test reporter that counts attack tests (named "attack: …", see @qbo/testkit's attack()): each that passed
// was refused by the service, each that failed was accepted. Writes one JSON line per attack.
export default async function* attackReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { name, details } = event.data;
    if (typeof name !== 'string' || !name.startsWith('attack: ') || details?.type === 'suite') continue;
    yield `${JSON.stringify({ name: name.slice('attack: '.length), accepted: event.type === 'test:fail' })}\n`;
  }
}
