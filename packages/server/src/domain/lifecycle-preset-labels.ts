import type { StatusDisplay } from './status-display.js';

/** What a buyer reads for each status of the `onramp` preset, in every shipped locale. */
export const onrampDisplay: StatusDisplay = {
  AWAITING_PAYMENT_FROM_USER: {
    en: { label: 'Awaiting payment', description: 'We are waiting for your payment.' },
    de: { label: 'Zahlung ausstehend', description: 'Wir warten auf Ihre Zahlung.' },
    fr: { label: 'En attente de paiement', description: 'Nous attendons votre paiement.' },
    es: { label: 'Pendiente de pago', description: 'Estamos esperando tu pago.' },
    'pt-BR': { label: 'Aguardando pagamento', description: 'Estamos aguardando o seu pagamento.' },
    ja: { label: 'お支払い待ち', description: 'お支払いをお待ちしています。' },
  },
  PAYMENT_DONE_MARKED_BY_USER: {
    en: { label: 'Payment sent', description: 'You marked the payment as sent; we are confirming it.' },
    de: { label: 'Zahlung gesendet', description: 'Sie haben die Zahlung als gesendet markiert; wir bestätigen sie.' },
    fr: { label: 'Paiement envoyé', description: 'Vous avez indiqué avoir payé ; nous le confirmons.' },
    es: { label: 'Pago enviado', description: 'Marcaste el pago como enviado; lo estamos confirmando.' },
    'pt-BR': { label: 'Pagamento enviado', description: 'Você marcou o pagamento como enviado; estamos confirmando.' },
    ja: { label: '送金済み', description: '送金済みとして受け付けました。確認しています。' },
  },
  PROCESSING: {
    en: { label: 'Processing', description: 'Your order is being processed.' },
    de: { label: 'In Bearbeitung', description: 'Ihre Bestellung wird bearbeitet.' },
    fr: { label: 'En cours de traitement', description: 'Votre commande est en cours de traitement.' },
    es: { label: 'En proceso', description: 'Tu pedido se está procesando.' },
    'pt-BR': { label: 'Em processamento', description: 'Seu pedido está sendo processado.' },
    ja: { label: '処理中', description: 'ご注文を処理しています。' },
  },
  PENDING_DELIVERY: {
    en: { label: 'Sending', description: 'Your funds are on their way.' },
    de: { label: 'Wird gesendet', description: 'Ihr Guthaben ist unterwegs.' },
    fr: { label: 'Envoi en cours', description: 'Vos fonds sont en route.' },
    es: { label: 'Enviando', description: 'Tus fondos están en camino.' },
    'pt-BR': { label: 'Enviando', description: 'Seus fundos estão a caminho.' },
    ja: { label: '送付中', description: 'お客様の資産を送付しています。' },
  },
  COMPLETED: {
    en: { label: 'Completed', description: 'Your order is complete.' },
    de: { label: 'Abgeschlossen', description: 'Ihre Bestellung ist abgeschlossen.' },
    fr: { label: 'Terminée', description: 'Votre commande est terminée.' },
    es: { label: 'Completado', description: 'Tu pedido se ha completado.' },
    'pt-BR': { label: 'Concluído', description: 'Seu pedido foi concluído.' },
    ja: { label: '完了', description: 'ご注文は完了しました。' },
  },
  FAILED: {
    en: { label: 'Failed', description: 'Your order could not be completed.' },
    de: { label: 'Fehlgeschlagen', description: 'Ihre Bestellung konnte nicht abgeschlossen werden.' },
    fr: { label: 'Échec', description: "Votre commande n'a pas pu aboutir." },
    es: { label: 'Fallido', description: 'No se pudo completar tu pedido.' },
    'pt-BR': { label: 'Falhou', description: 'Não foi possível concluir seu pedido.' },
    ja: { label: '失敗', description: 'ご注文を完了できませんでした。' },
  },
  CANCELLED: {
    en: { label: 'Cancelled', description: 'This order was cancelled.' },
    de: { label: 'Storniert', description: 'Diese Bestellung wurde storniert.' },
    fr: { label: 'Annulée', description: 'Cette commande a été annulée.' },
    es: { label: 'Cancelado', description: 'Este pedido fue cancelado.' },
    'pt-BR': { label: 'Cancelado', description: 'Este pedido foi cancelado.' },
    ja: { label: 'キャンセル済み', description: 'このご注文はキャンセルされました。' },
  },
};

/** What a buyer reads for each status of the `store` preset, in every shipped locale. */
export const storeDisplay: StatusDisplay = {
  new: {
    en: { label: 'Order received', description: 'We have your order.' },
    de: { label: 'Bestellung eingegangen', description: 'Ihre Bestellung ist bei uns eingegangen.' },
    fr: { label: 'Commande reçue', description: 'Nous avons bien reçu votre commande.' },
    es: { label: 'Pedido recibido', description: 'Hemos recibido tu pedido.' },
    'pt-BR': { label: 'Pedido recebido', description: 'Recebemos o seu pedido.' },
    ja: { label: '注文受付', description: 'ご注文を受け付けました。' },
  },
  paid: {
    en: { label: 'Paid', description: 'Your payment arrived; we are preparing your order.' },
    de: { label: 'Bezahlt', description: 'Ihre Zahlung ist eingegangen; wir bereiten Ihre Bestellung vor.' },
    fr: { label: 'Payée', description: 'Votre paiement est arrivé ; nous préparons votre commande.' },
    es: { label: 'Pagado', description: 'Recibimos tu pago; estamos preparando tu pedido.' },
    'pt-BR': { label: 'Pago', description: 'Recebemos seu pagamento; estamos preparando seu pedido.' },
    ja: { label: '支払い済み', description: 'お支払いを確認しました。ご注文を準備しています。' },
  },
  done: {
    en: { label: 'Delivered', description: 'Your order is complete.' },
    de: { label: 'Geliefert', description: 'Ihre Bestellung ist abgeschlossen.' },
    fr: { label: 'Livrée', description: 'Votre commande est terminée.' },
    es: { label: 'Entregado', description: 'Tu pedido se ha completado.' },
    'pt-BR': { label: 'Entregue', description: 'Seu pedido foi concluído.' },
    ja: { label: 'お届け済み', description: 'ご注文は完了しました。' },
  },
  canceled: {
    en: { label: 'Cancelled', description: 'This order was cancelled.' },
    de: { label: 'Storniert', description: 'Diese Bestellung wurde storniert.' },
    fr: { label: 'Annulée', description: 'Cette commande a été annulée.' },
    es: { label: 'Cancelado', description: 'Este pedido fue cancelado.' },
    'pt-BR': { label: 'Cancelado', description: 'Este pedido foi cancelado.' },
    ja: { label: 'キャンセル済み', description: 'このご注文はキャンセルされました。' },
  },
};
