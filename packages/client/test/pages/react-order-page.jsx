// A React 19 page with <ordercast-order-status>, bundled by the element test: React passes
// the attributes, sets `labels` as a property and listens to the element's custom event.
import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import '@ordercast/client/element';

const params = new URLSearchParams(location.search);
const labels = { AWAITING_PAYMENT_FROM_USER: 'Warten auf Zahlung', PROCESSING: 'In Bearbeitung', PENDING_DELIVERY: 'Unterwegs', COMPLETED: 'Zugestellt' };

function OrderPage() {
  const [lang, setLang] = useState('de');
  const [heard, setHeard] = useState('');
  return (
    <main>
      <h1>Ihre Bestellung</h1>
      <ordercast-order-status
        order-id={params.get('order')}
        token={params.get('token')}
        publishable-key={params.get('pk')}
        base-url={params.get('base')}
        steps="AWAITING_PAYMENT_FROM_USER PROCESSING PENDING_DELIVERY COMPLETED"
        lang={lang}
        labels={lang === 'de' ? labels : {}}
        onordercast-update={(event) => setHeard(event.detail.status)}
      />
      <p id="heard">{heard}</p>
      <button type="button" onClick={() => setLang('en')}>
        English
      </button>
    </main>
  );
}

createRoot(document.getElementById('root')).render(<OrderPage />);
