/** A timestamptz column as epoch ms (the driver gives a Date). */
export const ms = (value: Date | string | null | undefined): number | null =>
  value === null || value === undefined ? null : new Date(value).getTime();

export const iso = (value: number | null | undefined): string | null =>
  value === null || value === undefined ? null : new Date(value).toISOString();
