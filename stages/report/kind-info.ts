/** Name and version of the report kind, shared by the cheap kind module and the implementation. */
export const REPORT_KIND_NAME = 'report';
/** semantic version: bump when the report's content would change for the same inputs */
export const REPORT_KIND_VERSION = '1.2.0';
