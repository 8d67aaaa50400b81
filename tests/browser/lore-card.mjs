// A card whose lorebook has one sticky entry, for the tests of lorebook state across turns
// (the app's chat and the widget).

// Sticky for 2 messages; only the newest message is scanned, so the model's own words
// (which may echo the key) never fire it.
export const STICKY_LORE_CARD = {
  spec: 'chara_card_v3',
  spec_version: '3.0',
  data: {
    name: 'Mara',
    description: '{{char}} is a lighthouse keeper.',
    first_mes: 'Hello {{user}}.',
    character_book: {
      entries: [{
        keys: ['zelkova'], content: 'A zelkova tree grows beside the lighthouse.', name: 'Zelkova', enabled: true,
        insertion_order: 100, extensions: { sticky: 2, scan_depth: 1 },
      }],
    },
  },
};
