import { existsSync } from 'node:fs';
import path from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { projectRoot } from '../../infra/paths.js';

/** The dashboard's pages, scripts and styles (read from the sources, never from dist/: no build step touches them). */
export const DASHBOARD_DIR = path.join(projectRoot, 'api', 'dashboard', 'public');
/** Apache ECharts' browser builds, served from node_modules. */
export const ECHARTS_DIR = path.join(projectRoot, 'node_modules', 'echarts', 'dist');

/**
 * Content-Security-Policy of the pages: scripts and everything else from this origin only. Styles allow inline
 * attributes because ECharts positions its tooltips with them.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
}

/**
 * Mounts the dashboard on the API's own server, outside the `/api/v1` prefix: `GET /` (and `/index.html`) is the
 * single page, `/assets/…` its modules and styles, `/assets/vendor/echarts/…` ECharts from node_modules. The pages
 * hold no data (it comes from `/api/v1/dashboard/…` with the session cookie), so they need no key.
 */
export function mountDashboard(app: NestExpressApplication): void {
  if (!existsSync(path.join(DASHBOARD_DIR, 'index.html')))
    throw new Error(`dashboard pages missing in ${DASHBOARD_DIR}`);
  const setHeaders = (res: Response) => {
    securityHeaders(res);
    res.setHeader('Cache-Control', 'no-cache');
  };
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && (req.path === '/' || req.path === '/index.html')) {
      setHeaders(res);
      res.sendFile(path.join(DASHBOARD_DIR, 'index.html'));
    } else next();
  });
  app.useStaticAssets(ECHARTS_DIR, { prefix: '/assets/vendor/echarts/', index: false, fallthrough: true, setHeaders });
  app.useStaticAssets(DASHBOARD_DIR, { prefix: '/assets/', index: false, fallthrough: true, setHeaders });
}
