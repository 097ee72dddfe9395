// Reply templates. {{name}} marks what the reviewer must fill in: the console will not send a reply
// that still holds one, and neither will the API (moderato/review/capabilities.py).
export const PLACEHOLDER = /\{\{\s*([\w.-]+)\s*\}\}/g;

export const TEMPLATES = {
  en: [
    { id: "delivery", labels: ["complaint"], title: "Late delivery: we are on it",
      text: "Hello {{first_name}}, we are sorry your order {{order_number}} is late. Our delivery team is checking it and will contact you by {{date}}." },
    { id: "private", labels: ["complaint", "crisis"], title: "Move to a private conversation",
      text: "Hello {{first_name}}, thank you for telling us. We have sent you a private message so we can look at your case with you." },
    { id: "refund", labels: ["complaint"], title: "Refund on its way",
      text: "Hello {{first_name}}, your refund for order {{order_number}} has been issued; it will reach your account within {{days}} working days." },
    { id: "thanks", labels: ["normal"], title: "Thank you",
      text: "Thank you {{first_name}}, that is lovely to read!" },
  ],
  fr: [
    { id: "delivery", labels: ["complaint"], title: "Livraison en retard : on s'en occupe",
      text: "Bonjour {{prenom}}, nous sommes désolés du retard de votre commande {{numero_commande}}. Notre équipe livraison la vérifie et vous contactera d'ici le {{date}}." },
    { id: "private", labels: ["complaint", "crisis"], title: "Passer en message privé",
      text: "Bonjour {{prenom}}, merci de nous avoir prévenus. Nous vous avons écrit en message privé pour regarder votre dossier avec vous." },
    { id: "refund", labels: ["complaint"], title: "Remboursement en cours",
      text: "Bonjour {{prenom}}, le remboursement de votre commande {{numero_commande}} est lancé ; il arrivera sur votre compte sous {{jours}} jours ouvrés." },
    { id: "thanks", labels: ["normal"], title: "Merci",
      text: "Merci {{prenom}}, ça fait plaisir à lire !" },
  ],
};

export function placeholders(text) {
  return [...new Set([...String(text).matchAll(PLACEHOLDER)].map((match) => match[1]))];
}

export function fill(text, values) {
  return String(text).replace(PLACEHOLDER, (match, name) => (values[name] ? values[name] : match));
}
