/* The SDL2 window (frontend/display.h). */
#include "frontend/display.h"

#include <SDL.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/recplay.h"

#define REDRAW_MS 33u     /* about 30 frames a second */
#define BLINK_MS 267u     /* the VGA's cursor blinks every 16 frames at 60 Hz */
#define KEY_BUF 256u

struct display {
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    uint32_t rgb[(VGA_WIDTH + PANEL_WIDTH) * VGA_HEIGHT];
    panel *panel;       /* NULL: none to show */
    bool panel_shown;
    bool p_held;        /* the P of Ctrl+Alt+P is down: its release is the window's too */
    uint32_t last_draw;
    char kernel[128];
    char title[256];
    uint8_t keys[KEY_BUF]; /* scan codes typed, not yet given to the keyboard */
    size_t keys_len;
    bool closed;
};

/* SDL scancodes (USB HID usages) to PC set 1 make codes; 0xE0xx: with the 0xE0 prefix. */
static const uint16_t set1[SDL_NUM_SCANCODES] = {
    [SDL_SCANCODE_ESCAPE] = 0x01, [SDL_SCANCODE_1] = 0x02, [SDL_SCANCODE_2] = 0x03, [SDL_SCANCODE_3] = 0x04,
    [SDL_SCANCODE_4] = 0x05, [SDL_SCANCODE_5] = 0x06, [SDL_SCANCODE_6] = 0x07, [SDL_SCANCODE_7] = 0x08,
    [SDL_SCANCODE_8] = 0x09, [SDL_SCANCODE_9] = 0x0A, [SDL_SCANCODE_0] = 0x0B, [SDL_SCANCODE_MINUS] = 0x0C,
    [SDL_SCANCODE_EQUALS] = 0x0D, [SDL_SCANCODE_BACKSPACE] = 0x0E, [SDL_SCANCODE_TAB] = 0x0F,
    [SDL_SCANCODE_Q] = 0x10, [SDL_SCANCODE_W] = 0x11, [SDL_SCANCODE_E] = 0x12, [SDL_SCANCODE_R] = 0x13,
    [SDL_SCANCODE_T] = 0x14, [SDL_SCANCODE_Y] = 0x15, [SDL_SCANCODE_U] = 0x16, [SDL_SCANCODE_I] = 0x17,
    [SDL_SCANCODE_O] = 0x18, [SDL_SCANCODE_P] = 0x19, [SDL_SCANCODE_LEFTBRACKET] = 0x1A,
    [SDL_SCANCODE_RIGHTBRACKET] = 0x1B, [SDL_SCANCODE_RETURN] = 0x1C, [SDL_SCANCODE_LCTRL] = 0x1D,
    [SDL_SCANCODE_A] = 0x1E, [SDL_SCANCODE_S] = 0x1F, [SDL_SCANCODE_D] = 0x20, [SDL_SCANCODE_F] = 0x21,
    [SDL_SCANCODE_G] = 0x22, [SDL_SCANCODE_H] = 0x23, [SDL_SCANCODE_J] = 0x24, [SDL_SCANCODE_K] = 0x25,
    [SDL_SCANCODE_L] = 0x26, [SDL_SCANCODE_SEMICOLON] = 0x27, [SDL_SCANCODE_APOSTROPHE] = 0x28,
    [SDL_SCANCODE_GRAVE] = 0x29, [SDL_SCANCODE_LSHIFT] = 0x2A, [SDL_SCANCODE_BACKSLASH] = 0x2B,
    [SDL_SCANCODE_Z] = 0x2C, [SDL_SCANCODE_X] = 0x2D, [SDL_SCANCODE_C] = 0x2E, [SDL_SCANCODE_V] = 0x2F,
    [SDL_SCANCODE_B] = 0x30, [SDL_SCANCODE_N] = 0x31, [SDL_SCANCODE_M] = 0x32, [SDL_SCANCODE_COMMA] = 0x33,
    [SDL_SCANCODE_PERIOD] = 0x34, [SDL_SCANCODE_SLASH] = 0x35, [SDL_SCANCODE_RSHIFT] = 0x36,
    [SDL_SCANCODE_KP_MULTIPLY] = 0x37, [SDL_SCANCODE_LALT] = 0x38, [SDL_SCANCODE_SPACE] = 0x39,
    [SDL_SCANCODE_CAPSLOCK] = 0x3A, [SDL_SCANCODE_F1] = 0x3B, [SDL_SCANCODE_F2] = 0x3C, [SDL_SCANCODE_F3] = 0x3D,
    [SDL_SCANCODE_F4] = 0x3E, [SDL_SCANCODE_F5] = 0x3F, [SDL_SCANCODE_F6] = 0x40, [SDL_SCANCODE_F7] = 0x41,
    [SDL_SCANCODE_F8] = 0x42, [SDL_SCANCODE_F9] = 0x43, [SDL_SCANCODE_F10] = 0x44,
    [SDL_SCANCODE_NUMLOCKCLEAR] = 0x45, [SDL_SCANCODE_SCROLLLOCK] = 0x46, [SDL_SCANCODE_KP_7] = 0x47,
    [SDL_SCANCODE_KP_8] = 0x48, [SDL_SCANCODE_KP_9] = 0x49, [SDL_SCANCODE_KP_MINUS] = 0x4A,
    [SDL_SCANCODE_KP_4] = 0x4B, [SDL_SCANCODE_KP_5] = 0x4C, [SDL_SCANCODE_KP_6] = 0x4D,
    [SDL_SCANCODE_KP_PLUS] = 0x4E, [SDL_SCANCODE_KP_1] = 0x4F, [SDL_SCANCODE_KP_2] = 0x50,
    [SDL_SCANCODE_KP_3] = 0x51, [SDL_SCANCODE_KP_0] = 0x52, [SDL_SCANCODE_KP_PERIOD] = 0x53,
    [SDL_SCANCODE_F11] = 0x57, [SDL_SCANCODE_F12] = 0x58,
    [SDL_SCANCODE_KP_ENTER] = 0xE01C, [SDL_SCANCODE_RCTRL] = 0xE01D, [SDL_SCANCODE_KP_DIVIDE] = 0xE035,
    [SDL_SCANCODE_RALT] = 0xE038, [SDL_SCANCODE_HOME] = 0xE047, [SDL_SCANCODE_UP] = 0xE048,
    [SDL_SCANCODE_PAGEUP] = 0xE049, [SDL_SCANCODE_LEFT] = 0xE04B, [SDL_SCANCODE_RIGHT] = 0xE04D,
    [SDL_SCANCODE_END] = 0xE04F, [SDL_SCANCODE_DOWN] = 0xE050, [SDL_SCANCODE_PAGEDOWN] = 0xE051,
    [SDL_SCANCODE_INSERT] = 0xE052, [SDL_SCANCODE_DELETE] = 0xE053,
};

display *display_open(const char *kernel, vm_error *err)
{
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        vm_fail(err, VM_EIO, "--display sdl: %s", SDL_GetError());
        return NULL;
    }
    /* Without a display SDL falls back to a driver that shows nothing: say so instead, unless
     * the user asked for it (SDL_VIDEODRIVER). */
    const char *driver = SDL_GetCurrentVideoDriver();
    if (driver && !getenv("SDL_VIDEODRIVER") && (!strcmp(driver, "offscreen") || !strcmp(driver, "dummy"))) {
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        const char *x = getenv("DISPLAY");
        if (x && *x)
            vm_fail(err, VM_EIO, "--display sdl: SDL could not open the display %s (it fell back to its %s driver)", x,
                    driver);
        else
            vm_fail(err, VM_EIO, "--display sdl: no display to open a window on (DISPLAY is not set)");
        return NULL;
    }
    display *d = calloc(1, sizeof *d);
    if (!d) {
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        vm_fail(err, VM_ENOMEM, "--display sdl: out of memory");
        return NULL;
    }
    const char *slash = strrchr(kernel, '/');
    snprintf(d->kernel, sizeof d->kernel, "%s", slash ? slash + 1 : kernel);
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "nearest"); /* crisp glyphs when scaled */
    d->win = SDL_CreateWindow("vmiemu", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, VGA_WIDTH, VGA_HEIGHT,
                              SDL_WINDOW_RESIZABLE);
    d->ren = d->win ? SDL_CreateRenderer(d->win, -1, 0) : NULL;
    d->tex = d->ren ? SDL_CreateTexture(d->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING,
                                        VGA_WIDTH + PANEL_WIDTH, VGA_HEIGHT)
                    : NULL;
    if (!d->tex) {
        vm_fail(err, VM_EIO, "--display sdl: %s", SDL_GetError());
        display_close(d);
        return NULL;
    }
    SDL_RenderSetLogicalSize(d->ren, VGA_WIDTH, VGA_HEIGHT); /* keeps the aspect when resized */
    return d;
}

void display_close(display *d)
{
    if (!d)
        return;
    if (d->tex)
        SDL_DestroyTexture(d->tex);
    if (d->ren)
        SDL_DestroyRenderer(d->ren);
    if (d->win)
        SDL_DestroyWindow(d->win);
    free(d);
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
}

/* The window's width in picture pixels: the screen, and the panel beside it when shown. */
static int picture_width(const display *d) { return VGA_WIDTH + (d->panel && d->panel_shown ? PANEL_WIDTH : 0); }

void display_set_panel(display *d, panel *p, bool shown)
{
    int before = picture_width(d);
    d->panel = p;
    d->panel_shown = shown && p;
    int after = picture_width(d);
    if (after == before)
        return;
    /* Grow or shrink the window by the panel, at the scale it has now. */
    int w, h;
    SDL_GetWindowSize(d->win, &w, &h);
    SDL_SetWindowSize(d->win, w * after / before, h);
    SDL_RenderSetLogicalSize(d->ren, after, VGA_HEIGHT);
    d->last_draw = 0;
}

static void type_key(display *d, SDL_Scancode sc, bool up)
{
    uint16_t code = (unsigned)sc < SDL_NUM_SCANCODES ? set1[sc] : 0;
    if (!code || d->keys_len + 2 > KEY_BUF)
        return; /* no PC key, or typed faster than the guest takes it: dropped, as a full keyboard does */
    if (code >> 8)
        d->keys[d->keys_len++] = 0xE0;
    d->keys[d->keys_len++] = (uint8_t)((code & 0x7Fu) | (up ? 0x80u : 0));
}

static void events(display *d)
{
    SDL_Event ev;
    while (SDL_PollEvent(&ev)) {
        if (ev.type == SDL_QUIT || (ev.type == SDL_WINDOWEVENT && ev.window.event == SDL_WINDOWEVENT_CLOSE))
            d->closed = true;
        else if (ev.type == SDL_KEYDOWN && ev.key.keysym.scancode == SDL_SCANCODE_P &&
                 (ev.key.keysym.mod & KMOD_CTRL) && (ev.key.keysym.mod & KMOD_ALT)) {
            /* The window's key, not typed; its release may come after Ctrl and Alt's. */
            d->p_held = true;
            if (!ev.key.repeat && d->panel)
                display_set_panel(d, d->panel, !d->panel_shown);
        } else if (ev.type == SDL_KEYUP && ev.key.keysym.scancode == SDL_SCANCODE_P && d->p_held) {
            d->p_held = false;
        } else if ((ev.type == SDL_KEYDOWN || ev.type == SDL_KEYUP) && !ev.key.repeat)
            type_key(d, ev.key.keysym.scancode, ev.type == SDL_KEYUP);
    }
}

static void draw(display *d, const machine *m, const char *state, bool force)
{
    uint32_t now = SDL_GetTicks();
    if (!force && now - d->last_draw < REDRAW_MS)
        return;
    d->last_draw = now;
    char title[256];
    snprintf(title, sizeof title, "vmiemu - %s - %s (icount %llu)", d->kernel, state,
             (unsigned long long)machine_insns((machine *)m));
    if (strcmp(title, d->title) != 0) {
        memcpy(d->title, title, sizeof title);
        SDL_SetWindowTitle(d->win, title);
    }
    bool blink_on = (now / BLINK_MS) % 2 == 0;
    int w = picture_width(d);
    if (w > VGA_WIDTH) {
        panel_update(d->panel, m, state);
        panel_render_beside(d->panel, m, blink_on, d->rgb);
    } else {
        machine_render_screen(m, blink_on, d->rgb);
    }
    SDL_Rect part = {0, 0, w, VGA_HEIGHT};
    SDL_UpdateTexture(d->tex, &part, d->rgb, w * (int)sizeof d->rgb[0]);
    SDL_RenderClear(d->ren);
    SDL_RenderCopy(d->ren, d->tex, &part, NULL);
    SDL_RenderPresent(d->ren);
}

static const char *state_of(const machine *m)
{
    return m->end == END_RUNNING ? "running" : machine_end_name(m->end);
}

bool display_poll(display *d, machine *m, bool at_stop)
{
    events(d);
    if (recplay_replaying(m))
        d->keys_len = 0; /* a replay types what its record holds */
    if (!at_stop && d->keys_len && m->end == END_RUNNING && !machine_replaying_past(m)) {
        size_t took = 0;
        while (took < d->keys_len) {
            size_t len = d->keys[took] == 0xE0 && took + 1 < d->keys_len ? 2 : 1;
            host_input in = {HOST_KEYBOARD, HOST_BYTES, d->keys + took, len};
            if (I8042_QUEUE - m->kbc.kbd.count < len || machine_host_input(m, &in) != len)
                break; /* the rest waits for room */
            took += len;
        }
        memmove(d->keys, d->keys + took, d->keys_len - took);
        d->keys_len -= took;
    }
    draw(d, m, at_stop ? "stopped" : state_of(m), at_stop);
    return d->closed;
}

bool display_idle(display *d, machine *m, const char *state)
{
    events(d);
    draw(d, m, m->end == END_RUNNING ? state : state_of(m), false);
    return d->closed;
}
