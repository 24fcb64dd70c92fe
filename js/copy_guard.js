// The live view hides its own static copy: the text/html output displayed after it, marked
// data-rcnb-copy="<copy id>", which a saved notebook shows when no widget can render. The rule is a <style>
// added while the view lives, so it also covers a copy that arrives after the view (it is displayed second)
// or is replaced by a display update. It works wherever the view renders — JupyterLab, Notebook 7, VS Code,
// Colab, Voilà — without knowing the front end's output classes; where the view cannot render, nothing
// hides the copy. (Integration: JobView/ModelForm call it from render() with their `copy_id` trait.)

const COPY_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Hide every element marked with `copyId` in the view's document (and its shadow root, if it has one).
 * @param {HTMLElement} el the view's element
 * @param {string} copyId the id the static copy carries in data-rcnb-copy
 * @returns {() => void} undo: shows the copy again (call it from the view's cleanup)
 */
export function hideStaticCopy(el, copyId) {
  if (typeof copyId !== "string" || !COPY_ID.test(copyId)) return () => {};
  const doc = el.ownerDocument;
  const root = el.getRootNode();
  const targets = [doc.head || doc.documentElement];
  if (root && root.nodeType === 11) targets.push(root); // a shadow root (marimo renders widgets in one)
  const styles = targets.map((target) => {
    const style = doc.createElement("style");
    style.dataset.rcnbCopyGuard = copyId;
    style.textContent = `[data-rcnb-copy="${copyId}"]{display:none !important}`;
    target.appendChild(style);
    return style;
  });
  return () => {
    for (const style of styles) style.remove();
  };
}
