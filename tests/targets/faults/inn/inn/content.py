"""content.py - hotel content: room names, descriptions and amenities for the availability page. Most
hotels' content is ours; hotels taken over from a GDS (every 12th) keep the content the GDS sent, an
OpenTravel HotelDescriptiveContent XML document per hotel (room types in several languages, amenity
codes, photos), stored as received and read from it.

Planted fault (variant ha_content): room_descriptions parses the hotel's stored XML with xml.dom.minidom on
every availability page of an imported hotel (~150 KB, a few thousand elements: tens of ms of pure-Python
DOM building, the GIL held) to pick out four room names and their amenity codes. With the fault off the
parsed descriptions are kept once per document (they change only when the GDS sends a new one)."""

import functools
from xml.dom import minidom

from . import config

LANGS = ("en", "de", "fr", "it", "es", "nl")
AMENITIES = 24
_imported = {}  # hotel -> the stored XML document


def is_imported(hotel):
    return hotel % 12 == 11


def _document(hotel):
    rooms = []
    for code, room in enumerate(config.ROOMS):
        texts = "".join('<Text Language="%s" Formatted="false">%s room %d, hotel %d: %s</Text>'
                        % (lang, room, code, hotel, "a quiet room with a view of the old town. " * 3)
                        for lang in LANGS)
        amen = "".join('<Amenity RoomAmenityCode="%d" Quantity="1" Confirmable="true"><Description>'
                       '<Text Language="en">amenity %d</Text></Description></Amenity>' % (a, a)
                       for a in range(AMENITIES))
        photos = "".join('<ImageItem Category="6"><ImageFormat Width="1024" Height="768"><URL>https://img.example/'
                         '%d/%s/%d.jpg</URL></ImageFormat></ImageItem>' % (hotel, room, i) for i in range(12))
        rooms.append('<GuestRoom Code="%s" MaxOccupancy="%d"><TypeRoom Name="%s"/><Amenities>%s</Amenities>'
                     '<MultimediaDescriptions><MultimediaDescription><TextItems><TextItem>%s</TextItem>'
                     '</TextItems><ImageItems>%s</ImageItems></MultimediaDescription></MultimediaDescriptions>'
                     '</GuestRoom>' % (room.upper()[:3], 2 + code, room, amen, texts, photos))
    return ('<?xml version="1.0" encoding="UTF-8"?><OTA_HotelDescriptiveContentNotifRQ Version="1.0">'
            '<HotelDescriptiveContents><HotelDescriptiveContent HotelCode="%d"><FacilityInfo><GuestRooms>%s'
            '</GuestRooms></FacilityInfo></HotelDescriptiveContent></HotelDescriptiveContents>'
            '</OTA_HotelDescriptiveContentNotifRQ>' % (hotel, "".join(rooms * 6)))


def load_imports():
    """The GDS documents as stored; with the fault off, parsed once as they arrive."""
    for hotel in range(config.HOTELS):
        if is_imported(hotel):
            _imported[hotel] = _document(hotel)
            if not config.planted("ha_content"):
                _parsed_once(hotel)


def _text(node):
    return "".join(c.data for c in node.childNodes if c.nodeType == c.TEXT_NODE)


def _parse(xml):
    dom = minidom.parseString(xml)
    out = {}
    for room in dom.getElementsByTagName("GuestRoom"):
        name = room.getElementsByTagName("TypeRoom")[0].getAttribute("Name")
        if name in out:
            continue
        desc = [_text(t) for t in room.getElementsByTagName("Text") if t.getAttribute("Language") == "en"]
        out[name] = {"description": desc[-1] if desc else "",
                     "amenities": [a.getAttribute("RoomAmenityCode") for a in room.getElementsByTagName("Amenity")]}
    dom.unlink()
    return out


@functools.lru_cache(maxsize=None)
def _parsed_once(hotel):
    return _parse(_imported[hotel])


def room_descriptions(hotel):
    """Room type -> {"description", "amenities"} for the availability page."""
    if hotel not in _imported:
        return {room: {"description": "%s room" % room, "amenities": []} for room in config.ROOMS}
    if config.planted("ha_content"):
        return _parse(_imported[hotel])
    return _parsed_once(hotel)
