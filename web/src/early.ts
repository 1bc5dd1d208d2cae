// Imported first by main.ts (issue 16, the runs table's first paint): the data of the page the browser opened is asked
// for while the rest of the app's code is still being evaluated, and the page's identical requests take those answers
// (api.prefetch). Only the runs page does this: the one whose first paint is measured at 100,000 runs.

import { api, prefetch } from './api';
import { searchQuery, viewOf } from './pages/runsview';

const runs = /^\/experiments\/([^/]+)$/.exec(location.pathname.replace(/\/+$/, ''));
if (runs) {
  const experimentId = decodeURIComponent(runs[1]);
  const params = new URLSearchParams(location.search);
  prefetch(() => {
    void api.searchRuns(searchQuery(experimentId, viewOf(params)));
    void api.experiment(experimentId);
  });
}
