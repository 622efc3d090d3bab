import { useEffect, useState } from 'preact/hooks';

/** The console's client-side routes, all under /console (the server answers index.html for each). */
export type Route = 'inbox' | 'overview' | 'knowledge' | 'admin' | 'sign-in' | 'callback';
const ROUTES: Route[] = ['inbox', 'overview', 'knowledge', 'admin', 'sign-in', 'callback'];

export function routeOf(pathname: string): Route | null {
  const name = pathname.replace(/^\/console\/?/, '').split('/')[0] ?? '';
  return (ROUTES as string[]).includes(name) ? (name as Route) : null;
}

const listeners = new Set<() => void>();
addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(route: Route, search = ''): void {
  history.pushState(null, '', `/console/${route}${search}`);
  listeners.forEach((l) => l());
}

/** The current route; re-renders on navigation and on the browser's back/forward. */
export function useRoute(): { route: Route | null; search: URLSearchParams } {
  const [, tick] = useState(0);
  useEffect(() => {
    const listener = () => tick((n) => n + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return { route: routeOf(location.pathname), search: new URLSearchParams(location.search) };
}
