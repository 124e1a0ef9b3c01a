import type { Locale } from './locales.js';

/** The words of the buyer's page around the order's own data, in every shipped locale. */
export interface BuyerPageStrings {
  title: string;
  orderStatus: string;
  progress: string;
  timeline: string;
  lastUpdate: string;
  /** Before the order's ETA (docs/timing.md): when it should be complete. */
  expectedCompletion: string;
  amount: string;
  details: string;
  help: string;
  contactSupport: string;
  emailSupport: string;
  live: string;
  reconnecting: string;
  expiredTitle: string;
  expiredBody: string;
  revokedTitle: string;
  revokedBody: string;
  notFoundTitle: string;
  notFoundBody: string;
  stepReached: string;
  stepCurrent: string;
  stepAhead: string;
}

export const BUYER_PAGE_STRINGS: Record<Locale, BuyerPageStrings> = {
  en: {
    title: 'Order status',
    orderStatus: 'Status',
    progress: 'Progress',
    timeline: 'History',
    lastUpdate: 'Last update',
    expectedCompletion: 'Expected by',
    amount: 'Amount',
    details: 'Details',
    help: 'Need help?',
    contactSupport: 'Contact support',
    emailSupport: 'E-mail support',
    live: 'Live',
    reconnecting: 'Reconnecting…',
    expiredTitle: 'This link has expired',
    expiredBody: 'Ask the merchant for a new link to follow your order.',
    revokedTitle: 'This link is no longer valid',
    revokedBody: 'The merchant has withdrawn it. Ask them for a new link to follow your order.',
    notFoundTitle: 'Page not found',
    notFoundBody: 'Check the link you were sent.',
    stepReached: 'done',
    stepCurrent: 'current step',
    stepAhead: 'to come',
  },
  de: {
    title: 'Bestellstatus',
    orderStatus: 'Status',
    progress: 'Fortschritt',
    timeline: 'Verlauf',
    lastUpdate: 'Letzte Aktualisierung',
    expectedCompletion: 'Voraussichtlich bis',
    amount: 'Betrag',
    details: 'Details',
    help: 'Brauchen Sie Hilfe?',
    contactSupport: 'Support kontaktieren',
    emailSupport: 'Support per E-Mail',
    live: 'Live',
    reconnecting: 'Verbindung wird wiederhergestellt…',
    expiredTitle: 'Dieser Link ist abgelaufen',
    expiredBody: 'Bitten Sie den Händler um einen neuen Link, um Ihre Bestellung zu verfolgen.',
    revokedTitle: 'Dieser Link ist nicht mehr gültig',
    revokedBody: 'Der Händler hat ihn zurückgezogen. Bitten Sie um einen neuen Link.',
    notFoundTitle: 'Seite nicht gefunden',
    notFoundBody: 'Prüfen Sie den Link, den Sie erhalten haben.',
    stepReached: 'erledigt',
    stepCurrent: 'aktueller Schritt',
    stepAhead: 'ausstehend',
  },
  fr: {
    title: 'Suivi de commande',
    orderStatus: 'Statut',
    progress: 'Progression',
    timeline: 'Historique',
    lastUpdate: 'Dernière mise à jour',
    expectedCompletion: 'Prévu d’ici le',
    amount: 'Montant',
    details: 'Détails',
    help: "Besoin d'aide ?",
    contactSupport: 'Contacter le support',
    emailSupport: 'Écrire au support',
    live: 'En direct',
    reconnecting: 'Reconnexion…',
    expiredTitle: 'Ce lien a expiré',
    expiredBody: 'Demandez un nouveau lien au marchand pour suivre votre commande.',
    revokedTitle: "Ce lien n'est plus valide",
    revokedBody: "Le marchand l'a retiré. Demandez-lui un nouveau lien.",
    notFoundTitle: 'Page introuvable',
    notFoundBody: 'Vérifiez le lien que vous avez reçu.',
    stepReached: 'terminé',
    stepCurrent: 'étape en cours',
    stepAhead: 'à venir',
  },
  es: {
    title: 'Estado del pedido',
    orderStatus: 'Estado',
    progress: 'Progreso',
    timeline: 'Historial',
    lastUpdate: 'Última actualización',
    expectedCompletion: 'Previsto para',
    amount: 'Importe',
    details: 'Detalles',
    help: '¿Necesitas ayuda?',
    contactSupport: 'Contactar con soporte',
    emailSupport: 'Escribir a soporte',
    live: 'En directo',
    reconnecting: 'Reconectando…',
    expiredTitle: 'Este enlace ha caducado',
    expiredBody: 'Pide al comercio un enlace nuevo para seguir tu pedido.',
    revokedTitle: 'Este enlace ya no es válido',
    revokedBody: 'El comercio lo ha retirado. Pídele un enlace nuevo.',
    notFoundTitle: 'Página no encontrada',
    notFoundBody: 'Comprueba el enlace que recibiste.',
    stepReached: 'hecho',
    stepCurrent: 'paso actual',
    stepAhead: 'pendiente',
  },
  'pt-BR': {
    title: 'Status do pedido',
    orderStatus: 'Status',
    progress: 'Progresso',
    timeline: 'Histórico',
    lastUpdate: 'Última atualização',
    expectedCompletion: 'Previsto até',
    amount: 'Valor',
    details: 'Detalhes',
    help: 'Precisa de ajuda?',
    contactSupport: 'Falar com o suporte',
    emailSupport: 'Enviar e-mail ao suporte',
    live: 'Ao vivo',
    reconnecting: 'Reconectando…',
    expiredTitle: 'Este link expirou',
    expiredBody: 'Peça um novo link ao lojista para acompanhar seu pedido.',
    revokedTitle: 'Este link não é mais válido',
    revokedBody: 'O lojista o retirou. Peça um novo link.',
    notFoundTitle: 'Página não encontrada',
    notFoundBody: 'Confira o link que você recebeu.',
    stepReached: 'concluído',
    stepCurrent: 'etapa atual',
    stepAhead: 'a seguir',
  },
  ja: {
    title: '注文状況',
    orderStatus: 'ステータス',
    progress: '進捗',
    timeline: '履歴',
    lastUpdate: '最終更新',
    expectedCompletion: '完了予定',
    amount: '金額',
    details: '詳細',
    help: 'お困りですか？',
    contactSupport: 'サポートに連絡',
    emailSupport: 'サポートにメール',
    live: 'ライブ',
    reconnecting: '再接続中…',
    expiredTitle: 'このリンクは有効期限切れです',
    expiredBody: '注文を確認するには、販売者に新しいリンクをご依頼ください。',
    revokedTitle: 'このリンクは無効になりました',
    revokedBody: '販売者がリンクを取り消しました。新しいリンクをご依頼ください。',
    notFoundTitle: 'ページが見つかりません',
    notFoundBody: '受け取ったリンクをご確認ください。',
    stepReached: '完了',
    stepCurrent: '現在のステップ',
    stepAhead: '予定',
  },
};
