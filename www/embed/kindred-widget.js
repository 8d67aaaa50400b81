// The widget's entry point for site owners, the one file a page names:
//
//   <script type="module" src="/embed/kindred-widget.js"></script>
//   <kindred-chat card="/characters/wren.json"></kindred-chat>
//
// It defines <kindred-chat> (kindred-chat.js); the attributes are described there.
import './kindred-chat.js';
