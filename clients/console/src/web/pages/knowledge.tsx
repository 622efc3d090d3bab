import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ConsoleArticlesDocument,
  ConsoleDeleteArticleDocument,
  ConsoleSaveArticleDocument,
  ConsoleTryQuestionDocument,
  ConsoleUnsureAnswersDocument,
  type ConsoleArticlesQuery,
  type ConsoleTryQuestionQuery,
} from '../../generated/operations';
import { clientFor, describeError, op, useLoad } from '../api';
import { isAdmin, type Identity } from '../auth';
import { formatPercent, formatTime, t, useLang } from '../i18n';
import { Empty, ErrorState, Load, Loading, Notice } from '../ui';
import { CalibrationPanel } from './knowledge-calibration';

type Article = ConsoleArticlesQuery['searchArticles'][number];
interface Draft {
  id?: string;
  title: string;
  body: string;
  questions: string;
  locale: string;
}

const ARTICLES = op(ConsoleArticlesDocument);
const SAVE = op(ConsoleSaveArticleDocument);
const DELETE = op(ConsoleDeleteArticleDocument);
const TRY = op(ConsoleTryQuestionDocument);
const UNSURE = op(ConsoleUnsureAnswersDocument);

const draftOf = (article: Article): Draft => ({ ...article, questions: article.questions.join('\n') });

export function KnowledgePage({ identity }: { identity: Identity }) {
  useLang();
  const client = clientFor(identity);
  const admin = isAdmin(identity);
  const [text, setText] = useState('');
  const [query, setQuery] = useState('');
  const [locale, setLocale] = useState('');
  const [draft, setDraft] = useState<Draft | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [articles, reload] = useLoad(
    () => client.request(ARTICLES, { text: query || null, locale: locale || null, first: 200 }).then((d) => d.searchArticles),
    [query, locale, identity.token],
  );
  // Search as you type, a quarter second after the last key.
  useEffect(() => {
    const timer = setTimeout(() => setQuery(text.trim()), 250);
    return () => clearTimeout(timer);
  }, [text]);

  const remove = async (article: Article) => {
    if (!confirm(t('kb.confirmDelete', { title: article.title }))) return;
    try {
      await client.request(DELETE, { id: article.id });
      setNotice(t('kb.deleted'));
      reload();
    } catch (error) {
      setNotice(t('state.error', { message: describeError(error).message }));
    }
  };

  return (
    <div class="page">
      <h1>{t('kb.title')}</h1>
      {!admin && <p class="hint">{t('kb.readOnly')}</p>}
      <Notice text={notice} />
      <div class="kb-layout">
        <section class="card kb-list" aria-labelledby="kb-search-heading">
          <h2 id="kb-search-heading" class="visually-hidden">
            {t('kb.search')}
          </h2>
          <form class="toolbar" role="search" onSubmit={(e) => (e.preventDefault(), setQuery(text.trim()))}>
            <label class="grow">
              <span class="visually-hidden">{t('kb.search')}</span>
              <input
                type="search"
                name="search"
                value={text}
                placeholder={t('kb.searchPlaceholder')}
                onInput={(e) => setText((e.target as HTMLInputElement).value)}
              />
            </label>
            <label>
              <span class="visually-hidden">{t('kb.locale')}</span>
              <select value={locale} onChange={(e) => setLocale((e.target as HTMLSelectElement).value)}>
                <option value="">{t('kb.anyLocale')}</option>
                <option value="en">en</option>
                <option value="zh-CN">zh-CN</option>
              </select>
            </label>
            {admin && (
              <button type="button" onClick={() => setDraft({ title: '', body: '', questions: '', locale: locale || 'en' })}>
                {t('kb.new')}
              </button>
            )}
          </form>
          <Load value={articles} retry={reload}>
            {(list) =>
              list.length === 0 ? (
                <Empty>{query || locale ? t('kb.empty') : t('kb.emptyAll')}</Empty>
              ) : (
                <>
                  <p class="muted">{t('kb.count', { n: list.length })}</p>
                  <ul class="articles">
                    {list.map((article) => (
                      <li key={article.id} class="article">
                        <div class="article-head">
                          <h3>{article.title}</h3>
                          <span class="tag">{article.locale}</span>
                        </div>
                        <p class="article-body">{article.body}</p>
                        <p class="muted">
                          {t('kb.questionsCount', { n: article.questions.length })} · {article.id} · {formatTime(article.updatedAt)}
                        </p>
                        {admin && (
                          <div class="row">
                            <button
                              type="button"
                              class="secondary"
                              onClick={() => setDraft(draftOf(article))}
                              aria-label={`${t('kb.edit')}: ${article.title}`}
                            >
                              {t('kb.edit')}
                            </button>
                            <button
                              type="button"
                              class="danger"
                              onClick={() => void remove(article)}
                              aria-label={`${t('kb.delete')}: ${article.title}`}
                            >
                              {t('kb.delete')}
                            </button>
                          </div>
                        )}
                      </li>
                    ))}
                  </ul>
                </>
              )
            }
          </Load>
        </section>
        <aside class="kb-side">
          {draft && admin && (
            <Editor
              identity={identity}
              draft={draft}
              onDone={(saved) => {
                setDraft(null);
                if (saved) {
                  setNotice(t('kb.saved'));
                  reload();
                }
              }}
            />
          )}
          <TryQuestion identity={identity} />
          <CalibrationPanel identity={identity} />
          <UnsureQuestions
            identity={identity}
            admin={admin}
            articles={articles.state === 'ready' ? articles.data : []}
            onNewArticle={(question) =>
              setDraft({ title: '', body: '', questions: question, locale: /[\u4e00-\u9fff]/.test(question) ? 'zh-CN' : 'en' })
            }
            onAdded={(title) => {
              setNotice(t('unsure.added', { title }));
              reload();
            }}
          />
        </aside>
      </div>
    </div>
  );
}

function Editor({ identity, draft, onDone }: { identity: Identity; draft: Draft; onDone: (saved: boolean) => void }) {
  const [value, setValue] = useState(draft);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => {
    setValue(draft);
    first.current?.focus();
  }, [draft]);
  const field = (name: keyof Draft) => (e: Event) => setValue({ ...value, [name]: (e.target as HTMLInputElement).value });
  return (
    <section class="card" aria-labelledby="editor-heading">
      <h2 id="editor-heading">{draft.id ? t('editor.editTitle', { title: draft.title }) : t('editor.newTitle')}</h2>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          const questions = value.questions
            .split('\n')
            .map((q) => q.trim())
            .filter(Boolean);
          clientFor(identity)
            .request(SAVE, {
              input: { id: value.id?.trim() || null, title: value.title, body: value.body, questions, locale: value.locale.trim() || 'en' },
            })
            .then(
              () => onDone(true),
              (err: unknown) => {
                setBusy(false);
                setError(t('state.error', { message: describeError(err).message }));
              },
            );
        }}
      >
        <Notice text={error} tone="error" />
        <label>
          {t('editor.title')}
          <input ref={first} name="title" required maxLength={300} value={value.title} onInput={field('title')} />
        </label>
        <label>
          {t('editor.body')}
          <textarea name="body" required rows={5} value={value.body} onInput={field('body')} />
        </label>
        <label>
          {t('editor.questions')}
          <textarea name="questions" rows={5} value={value.questions} onInput={field('questions')} />
        </label>
        <div class="row">
          <label class="grow">
            {t('editor.locale')}
            <input name="locale" value={value.locale} maxLength={35} onInput={field('locale')} />
          </label>
          {!draft.id && (
            <label class="grow">
              {t('editor.id')}
              <input name="id" value={value.id ?? ''} maxLength={128} onInput={field('id')} />
            </label>
          )}
        </div>
        <div class="row">
          <button type="submit" disabled={busy}>
            {t('editor.save')}
          </button>
          <button type="button" class="secondary" onClick={() => onDone(false)}>
            {t('editor.cancel')}
          </button>
        </div>
      </form>
    </section>
  );
}

function TryQuestion({ identity }: { identity: Identity }) {
  const [text, setText] = useState('');
  const [result, setResult] = useState<
    | { state: 'idle' }
    | { state: 'loading' }
    | { state: 'error'; message: string; code: string }
    | { state: 'ready'; data: ConsoleTryQuestionQuery['tryQuestion'] }
  >({
    state: 'idle',
  });
  return (
    <section class="card" aria-labelledby="try-heading">
      <h2 id="try-heading">{t('try.title')}</h2>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          if (!text.trim()) return;
          setResult({ state: 'loading' });
          clientFor(identity)
            .request(TRY, { text })
            .then(
              (d) => setResult({ state: 'ready', data: d.tryQuestion }),
              (err: unknown) => setResult({ state: 'error', ...describeError(err) }),
            );
        }}
      >
        <label>
          {t('try.label')}
          <input name="try" value={text} maxLength={2000} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">{t('try.submit')}</button>
      </form>
      {result.state === 'loading' && <Loading />}
      {result.state === 'error' && <ErrorState message={result.message} code={result.code} />}
      {result.state === 'ready' && <TrialResult trial={result.data} />}
    </section>
  );
}

function TrialResult({ trial }: { trial: ConsoleTryQuestionQuery['tryQuestion'] }) {
  const best = trial.matches[0];
  return (
    <div class="trial" aria-live="polite">
      <p class={trial.wouldAnswer ? 'verdict ok' : 'verdict warn'}>
        {!best
          ? t('try.noMatch')
          : trial.wouldAnswer
            ? t('try.wouldAnswer', { title: best.article.title, confidence: formatPercent(best.confidence) })
            : t('try.wouldHandOff', { confidence: formatPercent(best.confidence), threshold: formatPercent(trial.threshold) })}
      </p>
      <ol class="matches">
        {trial.matches.map((m) => (
          <li key={m.article.id}>
            <span class="match-title">{m.article.title}</span>
            <span class="meter" role="img" aria-label={`${t('try.confidence')} ${formatPercent(m.confidence)}`}>
              <span style={{ width: `${Math.round(m.confidence * 100)}%` }} class={m.confidence >= trial.threshold ? 'fill ok' : 'fill'} />
            </span>
            <span class="num">{formatPercent(m.confidence)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

function UnsureQuestions({
  identity,
  admin,
  articles,
  onNewArticle,
  onAdded,
}: {
  identity: Identity;
  admin: boolean;
  articles: Article[];
  onNewArticle: (question: string) => void;
  onAdded: (title: string) => void;
}) {
  const client = clientFor(identity);
  const [unsure, reload] = useLoad(() => client.request(UNSURE, { first: 20 }).then((d) => d.unsureAnswers), [identity.token]);
  const byId = new Map(articles.map((a) => [a.id, a]));
  const addTo = async (articleId: string, question: string) => {
    const article = byId.get(articleId);
    if (!article) return;
    await client.request(SAVE, {
      input: {
        id: article.id,
        title: article.title,
        body: article.body,
        locale: article.locale,
        questions: [...article.questions, question],
      },
    });
    onAdded(article.title);
    reload();
  };
  return (
    <section class="card" aria-labelledby="unsure-heading">
      <h2 id="unsure-heading">{t('unsure.title')}</h2>
      <Load value={unsure} retry={reload}>
        {(list) =>
          list.length === 0 ? (
            <Empty>{t('unsure.empty')}</Empty>
          ) : (
            <ul class="unsure">
              {list.map((answer) => {
                const already = (id: string) => byId.get(id)?.questions.includes(answer.question);
                return (
                  <li key={answer.id}>
                    <p class="question">“{answer.question}”</p>
                    <p class="muted">
                      {formatTime(answer.createdAt)} · {t('unsure.confidence', { confidence: formatPercent(answer.confidence ?? 0) })}
                    </p>
                    {admin && (
                      <div class="row wrap">
                        {answer.sources
                          .filter((s) => byId.has(s.id) && !already(s.id))
                          .slice(0, 2)
                          .map((source) => (
                            <button type="button" class="secondary" key={source.id} onClick={() => void addTo(source.id, answer.question)}>
                              {t('unsure.addToArticle', { title: source.title })}
                            </button>
                          ))}
                        <button type="button" class="secondary" onClick={() => onNewArticle(answer.question)}>
                          {t('unsure.newArticle')}
                        </button>
                      </div>
                    )}
                  </li>
                );
              })}
            </ul>
          )
        }
      </Load>
    </section>
  );
}
