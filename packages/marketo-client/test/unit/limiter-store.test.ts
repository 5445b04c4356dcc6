import { InMemoryLimiterStore } from "@ml/marketo-client";
import { limiterStoreContract } from "@ml/marketo-client/testing";
import { describe, expect, it } from "vitest";

limiterStoreContract("in memory", () => new InMemoryLimiterStore(), { describe, it, expect });
