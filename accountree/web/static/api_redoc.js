/* ReDoc for /api/v1/redoc, from the vendored bundle (redoc 3.0.1, MIT; no CDN: the page works
   offline, under the CSP), its telemetry off. */
import {init} from './vendor/redoc/redoc.standalone.js';

const el = document.getElementById('redoc-container');
init(el.dataset.spec, {disableTelemetry: true}, el);
