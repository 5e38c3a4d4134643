#include "frontend/regress/junit.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* XML 1.0 admits no control characters but tab and newline, and vmiemu's messages are ASCII:
 * anything else becomes '?', so a report is always well-formed. */
static char *xml_text(const char *s)
{
    char *t = strdup(s ? s : "");
    for (char *p = t; p && *p; p++)
        if (!(*p == '\t' || *p == '\n' || (*p >= 0x20 && *p < 0x7F)))
            *p = '?';
    return t;
}

static int attr(xmlTextWriterPtr w, const char *name, const char *value)
{
    char *v = xml_text(value);
    int r = v ? xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST v) : -1;
    free(v);
    return r;
}

static int attr_num(xmlTextWriterPtr w, const char *name, double value, bool integer)
{
    char buf[64];
    snprintf(buf, sizeof buf, integer ? "%.0f" : "%.3f", value);
    return attr(w, name, buf);
}

static int text_element(xmlTextWriterPtr w, const char *name, const char *type, const char *message,
                        const char *body)
{
    char *b = xml_text(body);
    int r = xmlTextWriterStartElement(w, BAD_CAST name);
    if (r >= 0 && message)
        r = attr(w, "message", message);
    if (r >= 0 && type)
        r = attr(w, "type", type);
    if (r >= 0 && b)
        r = xmlTextWriterWriteString(w, BAD_CAST b);
    if (r >= 0)
        r = xmlTextWriterEndElement(w);
    free(b);
    return b ? r : -1;
}

static int write_case(xmlTextWriterPtr w, const replay_job *j)
{
    int r = xmlTextWriterStartElement(w, BAD_CAST "testcase");
    if (r >= 0)
        r = attr(w, "classname", "vmiemu.replay");
    if (r >= 0)
        r = attr(w, "name", j->name);
    if (r >= 0)
        r = attr(w, "file", j->record);
    if (r >= 0)
        r = attr_num(w, "time", j->seconds, false);
    const char *msg = j->setup_error ? j->setup_error : j->message;
    if (r >= 0 && j->verdict == JOB_FAILED)
        r = text_element(w, "failure", "diverged", msg, j->output);
    if (r >= 0 && j->verdict == JOB_ERROR)
        r = text_element(w, "error", j->setup_error ? "setup" : "replay", msg, j->output ? j->output : msg);
    if (r >= 0 && j->verdict == JOB_PASSED && j->message)
        r = text_element(w, "system-out", NULL, NULL, j->message);
    if (r >= 0)
        r = xmlTextWriterEndElement(w);
    return r;
}

bool junit_write(const char *path, const char *suite, const replay_job *jobs, size_t n, char *err, size_t errlen)
{
    size_t failures = 0, errors = 0;
    double time = 0;
    for (size_t i = 0; i < n; i++) {
        failures += jobs[i].verdict == JOB_FAILED;
        errors += jobs[i].verdict == JOB_ERROR;
        time += jobs[i].seconds;
    }
    xmlTextWriterPtr w = xmlNewTextWriterFilename(path, 0);
    if (!w) {
        snprintf(err, errlen, "%s: cannot write the JUnit report", path);
        return false;
    }
    xmlTextWriterSetIndent(w, 1);
    int r = xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL);
    for (int level = 0; r >= 0 && level < 2; level++) {
        r = xmlTextWriterStartElement(w, BAD_CAST(level ? "testsuite" : "testsuites"));
        if (r >= 0)
            r = attr(w, "name", suite);
        if (r >= 0)
            r = attr_num(w, "tests", (double)n, true);
        if (r >= 0)
            r = attr_num(w, "failures", (double)failures, true);
        if (r >= 0)
            r = attr_num(w, "errors", (double)errors, true);
        if (r >= 0)
            r = attr_num(w, "time", time, false);
    }
    for (size_t i = 0; r >= 0 && i < n; i++)
        r = write_case(w, &jobs[i]);
    if (r >= 0)
        r = xmlTextWriterEndDocument(w); /* closes both elements */
    xmlFreeTextWriter(w);
    if (r < 0)
        snprintf(err, errlen, "%s: writing the JUnit report failed", path);
    return r >= 0;
}

static bool has_child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, BAD_CAST name) == 0)
            return true;
    return false;
}

/* Copies every <testcase> under `from` to `to`, counting them. */
static void take_cases(xmlNodePtr from, xmlNodePtr to, size_t counts[3], double *time)
{
    for (xmlNodePtr c = from->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrcmp(c->name, BAD_CAST "testcase") != 0) {
            take_cases(c, to, counts, time);
            continue;
        }
        counts[0]++;
        counts[1] += has_child(c, "failure");
        counts[2] += has_child(c, "error");
        xmlChar *t = xmlGetProp(c, BAD_CAST "time");
        if (t)
            *time += strtod((const char *)t, NULL);
        xmlFree(t);
        xmlNodePtr copy = xmlDocCopyNode(c, to->doc, 1); /* a node keeps its document's strings */
        if (copy)
            xmlAddChild(to, copy);
    }
}

static void set_counts(xmlNodePtr n, const size_t counts[3], double time)
{
    static const char *const names[3] = {"tests", "failures", "errors"};
    char buf[64];
    for (int i = 0; i < 3; i++) {
        snprintf(buf, sizeof buf, "%zu", counts[i]);
        xmlSetProp(n, BAD_CAST names[i], BAD_CAST buf);
    }
    snprintf(buf, sizeof buf, "%.3f", time);
    xmlSetProp(n, BAD_CAST "time", BAD_CAST buf);
}

bool junit_merge(const char *out, const char *const *in, size_t n, char *err, size_t errlen)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "testsuites");
    xmlDocSetRootElement(doc, root);
    xmlSetProp(root, BAD_CAST "name", BAD_CAST "vmiemu-regress");
    xmlNodePtr suite = xmlNewChild(root, NULL, BAD_CAST "testsuite", NULL);
    xmlSetProp(suite, BAD_CAST "name", BAD_CAST "vmiemu-regress");
    size_t counts[3] = {0};
    double time = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        xmlDocPtr d = xmlReadFile(in[i], NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        xmlNodePtr r = d ? xmlDocGetRootElement(d) : NULL;
        if (!r || (xmlStrcmp(r->name, BAD_CAST "testsuites") != 0 && xmlStrcmp(r->name, BAD_CAST "testsuite") != 0)) {
            snprintf(err, errlen, "%s: not a JUnit report", in[i]);
            ok = false;
        } else
            take_cases(r, suite, counts, &time);
        xmlFreeDoc(d);
    }
    set_counts(root, counts, time);
    set_counts(suite, counts, time);
    if (ok && xmlSaveFormatFileEnc(out, doc, "UTF-8", 1) < 0) {
        snprintf(err, errlen, "%s: cannot write the merged report", out);
        ok = false;
    }
    xmlFreeDoc(doc);
    return ok;
}
