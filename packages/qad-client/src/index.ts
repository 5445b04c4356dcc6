export const PACKAGE_NAME = "@ml/qad-client";
