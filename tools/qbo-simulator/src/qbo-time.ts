/**
 * QuickBooks writes timestamps in US-Pacific time with an offset (`2015-07-24T10:33:39-07:00`), whatever
 * the company's country (qbo-api-facts §4.1), and each surface has its own variant: MetaData without a
 * fraction, the response `time` with milliseconds, legacy webhooks with `-0700`, CloudEvents in UTC with
 * nine fractional digits. The US daylight-saving rule since 2007 is computed here rather than through Intl,
 * because seeding formats two timestamps per record and must stay fast.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const dstBoundsCache = new Map<number, readonly [number, number]>();

/** nth Sunday (1-based) of a month in `year`, as a UTC day-of-month. */
function nthSunday(year: number, month: number, n: number): number {
  const firstWeekday = new Date(Date.UTC(year, month, 1)).getUTCDay();
  return 1 + ((7 - firstWeekday) % 7) + (n - 1) * 7;
}

function dstBounds(year: number): readonly [number, number] {
  let bounds = dstBoundsCache.get(year);
  if (!bounds) {
    // Starts 02:00 PST on the second Sunday of March (10:00 UTC), ends 02:00 PDT on the first Sunday of November (09:00 UTC).
    bounds = [
      Date.UTC(year, 2, nthSunday(year, 2, 2), 10),
      Date.UTC(year, 10, nthSunday(year, 10, 1), 9),
    ] as const;
    dstBoundsCache.set(year, bounds);
  }
  return bounds;
}

/** Minutes east of UTC for US-Pacific at the instant `ms`: -420 in summer, -480 in winter. */
export function pacificOffsetMinutes(ms: number): number {
  const [start, end] = dstBounds(new Date(ms).getUTCFullYear());
  return ms >= start && ms < end ? -420 : -480;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function pacificParts(ms: number) {
  const offset = pacificOffsetMinutes(ms);
  const local = new Date(ms + offset * 60_000);
  const date = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return {
    date,
    time,
    millis: pad(local.getUTCMilliseconds(), 3),
    sign,
    hh: pad(Math.floor(abs / 60)),
    mm: pad(abs % 60),
  };
}

/** MetaData.CreateTime / LastUpdatedTime: `2015-07-24T10:33:39-07:00`. */
export function formatMetaTime(ms: number): string {
  const p = pacificParts(ms);
  return `${p.date}T${p.time}${p.sign}${p.hh}:${p.mm}`;
}

/** The response root `time`: `2015-07-13T12:35:57.651-07:00`. */
export function formatResponseTime(ms: number): string {
  const p = pacificParts(ms);
  return `${p.date}T${p.time}.${p.millis}${p.sign}${p.hh}:${p.mm}`;
}

/** Legacy webhook `lastUpdated` and `intuit-created-time`: `2015-10-05T14:42:19-0700`. */
export function formatLegacyWebhookTime(ms: number): string {
  const p = pacificParts(ms);
  return `${p.date}T${p.time}${p.sign}${p.hh}${p.mm}`;
}

/** CloudEvents `time`: UTC with nine fractional digits. */
export function formatCloudEventTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000000Z');
}

/** A transaction date (`TxnDate`): the Pacific calendar day of the instant. */
export function formatPacificDate(ms: number): string {
  return pacificParts(ms).date;
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Reads every timestamp variant clients send: offsets with or without a colon, `Z`, date-only (Pacific
 * midnight), and a `+` that a form decoder turned into a space (node-quickbooks sends `changedSince` with a
 * raw `+`, qbo-api-facts §8.7). NaN when it is not a timestamp.
 */
export function parseQboTime(text: string): number {
  const s = text.trim();
  const day = DATE_ONLY.exec(s);
  if (day) {
    const utcMidnight = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    return utcMidnight - pacificOffsetMinutes(utcMidnight + 12 * HOUR) * 60_000;
  }
  const normalised = s.replace(/ (\d{2}:?\d{2})$/, '+$1').replace(/([+-])(\d{2})(\d{2})$/, '$1$2:$3');
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.test(normalised))
    return Number.NaN;
  return Date.parse(normalised);
}
