import type { Random } from '../random.js';
import type { QboObject } from './entities/types.js';

/** Word lists and the chart of accounts seeded companies are made from. */
export const GIVEN = [
  'Amy',
  'Bill',
  'Carla',
  'Dylan',
  'Grace',
  'Hector',
  'Ines',
  'Jamal',
  'Kiri',
  'Lena',
  'Mateo',
  'Nora',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sven',
  'Tariq',
  'Uma',
  'Wen',
];
export const FAMILY = [
  "O'Brien",
  'Garcia',
  'Nguyen',
  'Smith',
  'Kowalski',
  'Okafor',
  'Lindqvist',
  'Tanaka',
  'Dubois',
  'Haddad',
  'Moreau',
  'Silva',
  'Novak',
  'Byrne',
  'Rossi',
  'Jensen',
];
export const TRADES = [
  'Bird Sanctuary',
  'Bakery',
  'Landscaping',
  'Plumbing & Heating',
  'Design Studio',
  'Auto Repair',
  'Dental',
  'Consulting',
  'Books',
  'Coffee',
];
export const GOODS = [
  'Design',
  'Installation',
  'Gardening',
  'Pest Control',
  'Sprinklers',
  'Rock Fountain',
  'Pump',
  'Hours',
  'Lighting',
  'Maintenance',
];
export const CITIES = [
  ['Bayshore', 'CA', '94326'],
  ['Half Moon Bay', 'CA', '94213'],
  ['Sunnyvale', 'CA', '94086'],
  ['Middlefield', 'CA', '94303'],
] as const;

/** The default chart of accounts every seeded company starts with. */
export const CHART: readonly (readonly [string, string])[] = [
  ['Checking', 'Bank'],
  ['Savings', 'Bank'],
  ['Accounts Receivable (A/R)', 'Accounts Receivable'],
  ['Undeposited Funds', 'Other Current Asset'],
  ['Inventory Asset', 'Other Current Asset'],
  ['Accounts Payable (A/P)', 'Accounts Payable'],
  ['Mastercard', 'Credit Card'],
  ['Opening Balance Equity', 'Equity'],
  ['Sales of Product Income', 'Income'],
  ['Services', 'Income'],
  ['Cost of Goods Sold', 'Cost of Goods Sold'],
  ['Advertising', 'Expense'],
  ['Rent or Lease', 'Expense'],
  ['Utilities', 'Expense'],
  ['Office Expenses', 'Expense'],
];

/** Names are drawn from small lists, so repeats get a number; the next number per base is remembered. */
export function uniqueName(taken: Map<string, number>, base: string): string {
  const key = base.toLowerCase();
  let n = taken.get(key);
  if (n === undefined) {
    taken.set(key, 2);
    return base;
  }
  let name = `${base} ${n}`;
  while (taken.has(name.toLowerCase())) name = `${base} ${++n}`;
  taken.set(key, n + 1);
  taken.set(name.toLowerCase(), 2);
  return name;
}

export function address(random: Random, id: number): QboObject {
  const [city, region, zip] = random.pick(CITIES);
  return {
    Id: String(id),
    Line1: `${100 + random.int(9800)} Main St.`,
    City: city,
    CountrySubDivisionCode: region,
    PostalCode: zip,
  };
}
