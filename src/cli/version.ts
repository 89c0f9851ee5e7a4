/** The release this CLI is: `warden --version`, and the tool version CI reports (SARIF) name. */
export const WARDEN_VERSION = '0.1.0';
