/**
 * How named-account names are compared: Marketo keeps one named account per name, matched trimmed and
 * case-insensitively. The engine claims names with this function and the stores index synced names with it (computed
 * in JavaScript on write, never in SQL, whose `lower()` folds ASCII only), so both always agree.
 *
 * @module
 */

/** Normalises a named-account name the way Marketo matches it (trimmed, case-insensitive). Not part of the public API. */
export const normName = (name: string): string => name.trim().toLowerCase();
