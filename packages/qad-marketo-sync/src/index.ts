export const PACKAGE_NAME = "@ml/qad-marketo-sync";
