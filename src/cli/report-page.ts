/** Which stages are the report (built-in kind `report`) and the page each writes: for `wsflow report` and `run`'s last line. */
export const REPORT_KIND = 'report';
export const REPORT_PAGE = 'report.html';
