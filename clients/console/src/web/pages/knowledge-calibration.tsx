import { useState } from 'preact/hooks';
import { ConsoleAnswerCalibrationDocument, type ConsoleAnswerCalibrationQuery } from '../../generated/operations';
import { clientFor, describeError, op } from '../api';
import type { Identity } from '../auth';
import { formatPercent, formatTime, t } from '../i18n';
import { ErrorState, Loading } from '../ui';

const CALIBRATION = op(ConsoleAnswerCalibrationDocument);

type Tenant = ConsoleAnswerCalibrationQuery['tenant'];

/**
 * The knowledge base calibrated on itself (Tenant.answerCalibration): the threshold that keeps confident
 * wrong answers at the target and the share of questions it would hand to a person, beside the tenant's
 * current threshold. Loaded on request: calibrating a large knowledge base takes the engine seconds.
 */
export function CalibrationPanel({ identity }: { identity: Identity }) {
  const [result, setResult] = useState<
    { state: 'idle' } | { state: 'loading' } | { state: 'error'; message: string; code: string } | { state: 'ready'; tenant: Tenant }
  >({ state: 'idle' });
  const load = () => {
    setResult({ state: 'loading' });
    clientFor(identity)
      .request(CALIBRATION, {})
      .then(
        (d) => setResult({ state: 'ready', tenant: d.tenant }),
        (err: unknown) => setResult({ state: 'error', ...describeError(err) }),
      );
  };
  return (
    <section class="card" aria-labelledby="calibration-heading">
      <h2 id="calibration-heading">{t('calibration.title')}</h2>
      <p class="hint">{t('calibration.hint')}</p>
      <button type="button" onClick={load} disabled={result.state === 'loading'}>
        {result.state === 'ready' ? t('calibration.again') : t('calibration.run')}
      </button>
      {result.state === 'loading' && <Loading />}
      {result.state === 'error' && <ErrorState message={result.message} code={result.code} retry={load} />}
      {result.state === 'ready' && <CalibrationResult tenant={result.tenant} />}
    </section>
  );
}

function CalibrationResult({ tenant }: { tenant: Tenant }) {
  const c = tenant.answerCalibration;
  if (c.threshold == null) return <p class="verdict warn">{t('calibration.tooFew')}</p>;
  const pct = (x: number | null | undefined) => (x == null ? '–' : formatPercent(x));
  return (
    <dl class="calibration" aria-live="polite">
      <dt>{t('calibration.threshold', { target: pct(c.targetConfidentWrong) })}</dt>
      <dd>{c.threshold.toFixed(2)}</dd>
      <dt>{t('calibration.handOff')}</dt>
      <dd>{pct(c.expectedHandOffRate)}</dd>
      <dt>{t('calibration.current', { threshold: tenant.answerConfidenceThreshold.toFixed(2) })}</dt>
      <dd>
        {t('calibration.currentValue', { handOff: pct(c.handOffRateAtCurrentThreshold), wrong: pct(c.confidentWrongAtCurrentThreshold) })}
      </dd>
      <dt>{t('calibration.basis')}</dt>
      <dd>
        {t('calibration.basisValue', { questions: String(c.questionsAsked), articles: String(c.articles), at: formatTime(c.computedAt) })}
      </dd>
    </dl>
  );
}
