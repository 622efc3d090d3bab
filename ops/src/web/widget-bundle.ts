import { dirname, join } from 'node:path';

/** The built widget's browser files (widget.js, widget-app.js), from the @beedesk/widget package. */
export const widgetBundleDir = (): string => join(dirname(require.resolve('@beedesk/widget/package.json')), 'dist', 'web');
