/** Removes secrets from strings before they reach an error, a log line or a snapshot (the private HTTP kernel's redactor). */
export { Redactor } from "@ml/http-kernel";
