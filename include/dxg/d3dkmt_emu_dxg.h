/*
 * dxg/d3dkmt_emu_dxg.h - include/d3dkmt_emu.h with the libdxg (Linux) ABI.
 *
 * For programs that load libdxg.so or libdxcore.so (built from d3dkmt-emu,
 * see README "Linux drop-in"): WCHAR is wchar_t (4 bytes), as in code built
 * against libdxg's headers, so D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME, the
 * pDeviceName of D3DKMT_OPENADAPTERFROMDEVICENAME, D3DKMT_ADAPTERREGISTRYINFO,
 * D3DKMT_DRIVER_DESCRIPTION and D3DDDI_QUERYREGISTRY_INFO take the libdxg
 * layouts. Do not use it with libd3dkmt_emu, which serves the Windows ones.
 */
#ifndef D3DKMT_EMU_DXG_H
#define D3DKMT_EMU_DXG_H

#ifndef D3DKMT_EMU_LIBDXG_ABI
#define D3DKMT_EMU_LIBDXG_ABI 1
#endif
#include "../d3dkmt_emu.h"

#endif /* D3DKMT_EMU_DXG_H */
