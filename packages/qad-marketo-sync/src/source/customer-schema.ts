import { z } from "zod";

/**
 * The engine's edge schema for a customer record: the canonical `Customer` of `@ml/qad-client` (REST and QXtend
 * both map onto it), checked again here because a source may be a file or another ERP. Optional parts default to
 * empty so a sparse export still validates; what the mapping cannot do without (codes, a name) is required.
 */
const text = z.string();
export const sourceContactSchema = z.object({
  contactCode: text.optional(),
  name: text.optional(),
  firstName: text.optional(),
  lastName: text.optional(),
  email: text.optional(),
  telephone: text.optional(),
  title: text.optional(),
  isPrimary: z.boolean().optional(),
});
/** A customer contact as the engine reads it. */
export type SourceContact = z.infer<typeof sourceContactSchema>;

/** See the module description; exported so a custom schema can extend it. */
export const sourceCustomerSchema = z.object({
  customerCode: text.trim().min(1, "customerCode is blank"),
  sharedSetCode: text.trim().min(1, "sharedSetCode is blank"),
  businessRelationCode: text.optional(),
  name: text.trim().min(1, "name is blank"),
  address: z
    .object({
      street1: text.optional(),
      street2: text.optional(),
      street3: text.optional(),
      city: text.optional(),
      zipCode: text.optional(),
      stateCode: text.optional(),
      countryCode: text.optional(),
    })
    .default({}),
  telephone: text.optional(),
  email: text.optional(),
  webSite: text.optional(),
  languageCode: text.optional(),
  isActive: z.boolean(),
  customerTypeCode: text.optional(),
  currencyCode: text
    .regex(/^[A-Za-z]{3}$/, "currencyCode must be a 3-letter ISO code")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  creditTermsCode: text.optional(),
  salespersonCode: text.optional(),
  region: text.optional(),
  corporateGroupCode: text.optional(),
  contacts: z.array(sourceContactSchema).default([]),
  lastModified: z.object({ date: text, time: z.number() }).optional(),
  concurrencyHash: text.optional(),
  custom: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
});
/** A validated customer record (compatible with `@ml/qad-client`'s `Customer`). */
export type SourceCustomer = z.infer<typeof sourceCustomerSchema>;
