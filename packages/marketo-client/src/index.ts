export const PACKAGE_NAME = "@ml/marketo-client";
