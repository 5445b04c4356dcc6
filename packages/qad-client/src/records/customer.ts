import { z } from "zod";
import { DAY_SHAPE, isCalendarDate } from "./calendar.js";

/** A value of a custom field (customCombo*, customShort*, or any site-specific column). */
export const customValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** Postal address of a QAD business relation, as both REST and QXtend deliver it. */
export const addressSchema = z.object({
  street1: z.string().optional(),
  street2: z.string().optional(),
  street3: z.string().optional(),
  city: z.string().optional(),
  zipCode: z.string().optional(),
  stateCode: z.string().optional(),
  countryCode: z.string().optional(),
});
export type Address = z.infer<typeof addressSchema>;

/** A contact person of a customer (QAD contacts / ad_mstr contact rows). */
export const contactSchema = z.object({
  contactCode: z.string().optional(),
  name: z.string().optional(),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  email: z.string().optional(),
  telephone: z.string().optional(),
  title: z.string().optional(),
  isPrimary: z.boolean().optional(),
});
export type Contact = z.infer<typeof contactSchema>;

/**
 * When QAD last changed a record: a day-granular date plus seconds since midnight, which is how QAD stores
 * `lastModifiedDate` / `lastModifiedTime` (and cm_mod_date on QXtend, where the time may be 0). The date must be a
 * day of the calendar: `2026-11-45` or `2026-02-30` is refused (`... is not a calendar date`), as such a stamp can
 * be neither ordered nor used as a poll's high-water mark.
 */
export const lastModifiedSchema = z.object({
  date: z
    .string()
    .regex(DAY_SHAPE, "expected YYYY-MM-DD")
    // Only a date of the right shape is checked against the calendar, so a wrong shape gets one message, not two.
    .refine((d) => !DAY_SHAPE.test(d) || isCalendarDate(d), {
      error: (issue) => `${String(issue.input)} is not a calendar date (no such day; expected YYYY-MM-DD)`,
    }),
  time: z.number().int().min(0).max(86_399),
});
export type LastModified = z.infer<typeof lastModifiedSchema>;

/**
 * The canonical customer record. REST (`customerV2s`) and QXtend (`cm_mstr` joined to `ad_mstr`) rows are both
 * mapped onto this shape, so the same customer read either way compares equal.
 */
export const customerSchema = z.object({
  customerCode: z.string().min(1),
  sharedSetCode: z.string().min(1),
  businessRelationCode: z.string().optional(),
  name: z.string(),
  address: addressSchema,
  telephone: z.string().optional(),
  email: z.string().optional(),
  webSite: z.string().optional(),
  languageCode: z.string().optional(),
  isActive: z.boolean(),
  customerTypeCode: z.string().optional(),
  currencyCode: z.string().optional(),
  creditTermsCode: z.string().optional(),
  salespersonCode: z.string().optional(),
  region: z.string().optional(),
  corporateGroupCode: z.string().optional(),
  contacts: z.array(contactSchema),
  lastModified: lastModifiedSchema,
  concurrencyHash: z.string().optional(),
  /** customCombo0..14, customShort0..19 and any other site-specific fields, by their QAD name. */
  custom: z.record(z.string(), customValueSchema),
});
/** The canonical customer record; see {@link customerSchema}. */
export type Customer = z.infer<typeof customerSchema>;
