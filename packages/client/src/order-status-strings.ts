/** The element's own words (status labels come from the project or the page), in the locales the presets ship. */
export interface ElementStrings {
  name: string;
  progress: string;
  history: string;
  updated: string;
  expected: string;
  loading: string;
  live: string;
  support: string;
  expired: string;
  revoked: string;
  notFound: string;
  failed: string;
}

const STRINGS: Record<string, ElementStrings> = {
  en: {
    name: 'Order status',
    progress: 'Progress',
    history: 'History',
    updated: 'Last update',
    expected: 'Expected by',
    loading: 'Loading…',
    live: 'Updates live',
    support: 'Contact support',
    expired: 'This link has expired.',
    revoked: 'This link is no longer valid.',
    notFound: 'This order could not be found.',
    failed: 'This order cannot be shown right now.',
  },
  de: {
    name: 'Bestellstatus',
    progress: 'Fortschritt',
    history: 'Verlauf',
    updated: 'Zuletzt aktualisiert',
    expected: 'Voraussichtlich bis',
    loading: 'Wird geladen…',
    live: 'Live-Aktualisierung',
    support: 'Support kontaktieren',
    expired: 'Dieser Link ist abgelaufen.',
    revoked: 'Dieser Link ist nicht mehr gültig.',
    notFound: 'Diese Bestellung wurde nicht gefunden.',
    failed: 'Diese Bestellung kann gerade nicht angezeigt werden.',
  },
  fr: {
    name: 'Statut de la commande',
    progress: 'Progression',
    history: 'Historique',
    updated: 'Dernière mise à jour',
    expected: 'Prévu d’ici le',
    loading: 'Chargement…',
    live: 'Mises à jour en direct',
    support: 'Contacter le support',
    expired: 'Ce lien a expiré.',
    revoked: "Ce lien n'est plus valide.",
    notFound: 'Cette commande est introuvable.',
    failed: "Cette commande ne peut pas être affichée pour l'instant.",
  },
  es: {
    name: 'Estado del pedido',
    progress: 'Progreso',
    history: 'Historial',
    updated: 'Última actualización',
    expected: 'Previsto para',
    loading: 'Cargando…',
    live: 'Actualizaciones en directo',
    support: 'Contactar con soporte',
    expired: 'Este enlace ha caducado.',
    revoked: 'Este enlace ya no es válido.',
    notFound: 'No se encontró este pedido.',
    failed: 'Este pedido no se puede mostrar ahora.',
  },
  'pt-BR': {
    name: 'Status do pedido',
    progress: 'Progresso',
    history: 'Histórico',
    updated: 'Última atualização',
    expected: 'Previsto até',
    loading: 'Carregando…',
    live: 'Atualizações ao vivo',
    support: 'Falar com o suporte',
    expired: 'Este link expirou.',
    revoked: 'Este link não é mais válido.',
    notFound: 'Este pedido não foi encontrado.',
    failed: 'Este pedido não pode ser exibido agora.',
  },
  ja: {
    name: '注文状況',
    progress: '進捗',
    history: '履歴',
    updated: '最終更新',
    expected: '完了予定',
    loading: '読み込み中…',
    live: 'リアルタイム更新',
    support: 'サポートに連絡',
    expired: 'このリンクは有効期限が切れています。',
    revoked: 'このリンクは無効になりました。',
    notFound: 'この注文は見つかりませんでした。',
    failed: '現在この注文を表示できません。',
  },
};

/** `de-AT` → German, `pt` → Portuguese (Brazil), anything unknown → English. */
export function stringsFor(lang: string | null | undefined): { locale: string; strings: ElementStrings } {
  const wanted = (lang ?? '').trim();
  const exact = Object.keys(STRINGS).find((locale) => locale.toLowerCase() === wanted.toLowerCase());
  const primary = wanted.split('-')[0]?.toLowerCase() ?? '';
  const locale = exact ?? Object.keys(STRINGS).find((candidate) => candidate.split('-')[0] === primary) ?? 'en';
  return { locale, strings: STRINGS[locale] as ElementStrings };
}
