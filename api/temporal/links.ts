import type { FabricaConfig } from '../../worker/config.js';

/** The Temporal Web UI page of one workflow run (its event history). */
export function temporalUiLink(config: FabricaConfig, workflowId: string, runId: string): string {
  const ns = encodeURIComponent(config.temporal.namespace);
  return `${config.temporal.uiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
}
