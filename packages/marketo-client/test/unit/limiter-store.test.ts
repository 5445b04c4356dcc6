import { InMemoryLimiterStore } from "@ml/marketo-client";
import { limiterStoreContract } from "../support/limiter-store-contract.js";

limiterStoreContract("in memory", () => new InMemoryLimiterStore());
