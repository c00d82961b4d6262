import { Link } from '../router.tsx';
import { usePageTitle } from '../use-resource.ts';

export function NotFoundPage() {
  usePageTitle('Page not found');
  return (
    <>
      <h1>Page not found</h1>
      <p>If you typed the web address, check it is correct.</p>
      <p>
        <Link href="/">Go to the area overview</Link>
      </p>
    </>
  );
}
