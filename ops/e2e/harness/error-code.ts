import { BeedeskError } from '@beedesk/sdk';

/** The `extensions.code` an SDK call was refused with, or NO_ERROR when it succeeded. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BeedeskError) return error.code;
    throw error;
  }
  return 'NO_ERROR';
}
