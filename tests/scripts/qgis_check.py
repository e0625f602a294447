#!/usr/bin/env python3
"""What QGIS (PyQGIS, headless) makes of placemap's GIS interfaces, for tests/tests/qgis.rs.

  qgis_check.py oapif BASE LAYER CODE
      QGIS's own OGC API - Features client (the OAPIF provider) on BASE/ogc, and the OGR
      provider (GDAL) on BASE/ogc/collections/LAYER/items?crs=<EPSG:27700>: validity, CRS,
      feature count, the vertices of feature CODE from both (the OAPIF ones transformed to
      EPSG:27700 by QGIS's QgsCoordinateTransform), and the codes QGIS gets for a bbox request.
  qgis_check.py vectortiles BASE LAYER INDICATOR QUERY Z X Y OUT_PNG
      A vector tile layer on BASE/tiles/LAYER/{z}/{x}/{y}.mvt, the MapLibre style
      BASE/styles/LAYER/INDICATOR.json?QUERY converted by QgsMapBoxGlStyleConverter (with the style's
      sprite) and set as its renderer, the layer's own styleUrl loading too; what each style of
      the renderer does to each district code (fill colour, filter), and the tile Z/X/Y drawn by
      QGIS at 512 px into OUT_PNG, with the colours at an inner point of every district that
      lies well inside it.

Exit 0 with JSON on stdout; 1 with {"error": ...} when QGIS cannot do what is asked; 2 with
{"missing": "qgis"} when PyQGIS is not installed (the test then skips). Runs offscreen
(QT_QPA_PLATFORM=offscreen, set by the caller).
"""

import json
import sys
import urllib.parse
import urllib.request

BNG = "http://www.opengis.net/def/crs/EPSG/0/27700"


def missing():
    print(json.dumps({"missing": "qgis"}))
    sys.exit(2)


try:
    from qgis.core import (
        Qgis,
        QgsApplication,
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsDataSourceUri,
        QgsExpression,
        QgsExpressionContext,
        QgsFeature,
        QgsFeatureRequest,
        QgsField,
        QgsFields,
        QgsGeometry,
        QgsMapBoxGlStyleConversionContext,
        QgsMapBoxGlStyleConverter,
        QgsMapRendererSequentialJob,
        QgsMapSettings,
        QgsProject,
        QgsRectangle,
        QgsSymbolLayer,
        QgsVectorLayer,
        QgsVectorTileLayer,
    )
    from qgis.PyQt.QtCore import QSize, QVariant
    from qgis.PyQt.QtGui import QColor, QImage
except ImportError:
    missing()


# What QGIS logs (its providers say there why a layer is invalid: QgsMapLayer.error() crashes
# PyQGIS 3.22 on an invalid OAPIF layer).
LOG = []


def fail(message):
    print(json.dumps({"error": message, "qgis_log": LOG[-20:]}))
    sys.exit(1)


def fetch(url):
    """GET url (loopback only: the callers pass the test server's address)."""
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.read()
    except OSError as e:  # URLError and HTTPError (a 4xx or 5xx answer) are OSErrors
        fail(f"GET {url}: {e}")


def vertices(geometry):
    return [[v.x(), v.y()] for v in geometry.vertices()]


def oapif(base, layer, code):
    out = {"qgis": Qgis.version()}
    # QGIS's OGC API - Features provider: the service URL and the collection.
    uri = f"url='{base}/ogc' typename='{layer}'"
    native = QgsVectorLayer(uri, layer, "OAPIF")
    out["oapif"] = {
        "valid": native.isValid(),
        "crs": native.crs().authid(),
        "count": native.featureCount(),
        "fields": native.fields().names(),
    }
    if not native.isValid():
        fail(f"the OAPIF provider cannot open {uri}")
    request = QgsFeatureRequest(QgsExpression(f"\"code\" = '{code}'"))
    found = next(native.getFeatures(request), None)
    if found is None:
        fail(f"the OAPIF layer has no feature with code {code}")
    # QGIS's own transformation (PROJ) to the British National Grid, as a project in EPSG:27700
    # would draw the layer.
    bng = QgsCoordinateReferenceSystem("EPSG:27700")
    transform = QgsCoordinateTransform(native.crs(), bng, QgsProject.instance())
    g = found.geometry()
    g.transform(transform)
    out["oapif"]["transform"] = transform.instantiatedCoordinateOperationDetails().proj
    out["oapif"]["vertices_27700"] = vertices(g)
    out["oapif"]["name"] = found["name"]
    # A bbox request (CRS84, around Teesside): QGIS sends it to the server as `bbox=`, and keeps
    # the features whose geometry meets the box.
    rect = QgsRectangle(-1.4, 54.5, -1.1, 54.7)
    out["oapif"]["bbox_codes"] = sorted(
        f["code"] for f in native.getFeatures(QgsFeatureRequest().setFilterRect(rect).setFlags(QgsFeatureRequest.ExactIntersect))
    )

    # The same collection read in EPSG:27700 (OGC API - Features Part 2) through GDAL, which QGIS
    # 3.22 offers for any URL: its OAPIF provider asks for CRS84 only.
    items = f"{base}/ogc/collections/{layer}/items?limit=1000&crs={urllib.parse.quote(BNG, safe='')}"
    gridded = QgsVectorLayer(items, layer, "ogr")
    out["ogr_27700"] = {
        "valid": gridded.isValid(),
        "crs": gridded.crs().authid(),
        "count": gridded.featureCount(),
    }
    if not gridded.isValid():
        fail(f"the OGR provider cannot open {items}")
    found = next(gridded.getFeatures(QgsFeatureRequest(QgsExpression(f"\"code\" = '{code}'"))), None)
    if found is None:
        fail(f"the EPSG:27700 layer has no feature with code {code}")
    out["ogr_27700"]["vertices"] = vertices(found.geometry())
    print(json.dumps(out))


def hex_of(colour):
    return colour.name() if colour.alpha() == 255 else f"{colour.name()}/{colour.alpha()}"


def vectortiles(base, layer, indicator, query, z, x, y, out_png):
    out = {"qgis": Qgis.version()}
    tilejson = json.loads(fetch(f"{base}/tiles/{layer}.json?indicators={indicator}"))
    template = tilejson["tiles"][0]
    uri = QgsDataSourceUri()
    uri.setParam("type", "xyz")
    uri.setParam("url", template)
    uri.setParam("zmin", str(tilejson["minzoom"]))
    uri.setParam("zmax", str(tilejson["maxzoom"]))
    style_url = f"{base}/styles/{layer}/{indicator}.json?{query}"
    # The layer's own style URL: what a user typing it into QGIS's connection dialog gets.
    uri.setParam("styleUrl", style_url)
    tiles = QgsVectorTileLayer(bytes(uri.encodedUri()).decode(), layer)
    out["layer"] = {"valid": tiles.isValid(), "crs": tiles.crs().authid(), "source": template}
    if not tiles.isValid():
        fail(f"QGIS cannot open the vector tiles {template}")
    message, loaded = tiles.loadDefaultStyle()
    out["layer"]["style_url_loaded"] = loaded
    out["layer"]["style_url_message"] = message

    # The style converted explicitly, with its sprite, so the converter's warnings are seen.
    style = json.loads(fetch(style_url))
    context = QgsMapBoxGlStyleConversionContext()
    sprite = style.get("sprite")
    if sprite:
        image = QImage()
        image.loadFromData(fetch(sprite + ".png"))
        context.setSprites(image, json.loads(fetch(sprite + ".json")))
    converter = QgsMapBoxGlStyleConverter()
    result = converter.convert(style, context)
    out["conversion"] = {
        "success": result == QgsMapBoxGlStyleConverter.Success,
        "error": converter.errorMessage(),
        "warnings": converter.warnings(),
    }
    renderer = converter.renderer()
    if renderer is None:
        fail(f"QgsMapBoxGlStyleConverter made no renderer: {converter.errorMessage()}")
    tiles.setRenderer(renderer.clone())

    # What each style of the renderer does to each district (the codes from the layer's
    # GeoJSON): whether its filter selects it, and the fill colour its symbol gives it.
    districts = QgsVectorLayer(f"{base}/layers/{layer}.geojson?indicators=", "districts", "ogr")
    if not districts.isValid():
        fail(f"QGIS cannot read {base}/layers/{layer}.geojson")
    codes = [f["code"] for f in districts.getFeatures()]
    fields = QgsFields()
    fields.append(QgsField("code", QVariant.String))
    styles = []
    for s in tiles.renderer().styles():
        symbol = s.symbol()
        entry = {
            "name": s.styleName(),
            "layer": s.layerName(),
            "geometry": int(s.geometryType()),
            "filter": s.filterExpression(),
            "symbol_layers": [sl.layerType() for sl in symbol.symbolLayers()] if symbol else [],
            "selects": [],
            "fill": {},
        }
        filt = QgsExpression(s.filterExpression()) if s.filterExpression() else None
        fill_layer = None
        if symbol:
            fill_layer = next((sl for sl in symbol.symbolLayers() if sl.layerType() == "SimpleFill"), None)
        prop = None
        if fill_layer is not None:
            p = fill_layer.dataDefinedProperties().property(QgsSymbolLayer.PropertyFillColor)
            if p.isActive():
                prop = p
        for code in codes:
            feature = QgsFeature(fields)
            feature.setAttribute("code", code)
            ctx = QgsExpressionContext()
            ctx.setFields(fields)
            ctx.setFeature(feature)
            if filt is None or bool(filt.evaluate(ctx)):
                entry["selects"].append(code)
            if fill_layer is not None:
                colour = fill_layer.color()
                if prop is not None:
                    colour, _ = prop.valueAsColor(ctx, colour)
                entry["fill"][code] = hex_of(colour)
        styles.append(entry)
    out["styles"] = styles

    # The tile z/x/y drawn by QGIS at 512 px (the @2x PNG tile's size) in Web Mercator.
    half = 20037508.342789244
    side = 2 * half / 2**z
    xmin, ymax = -half + x * side, half - y * side
    extent = QgsRectangle(xmin, ymax - side, xmin + side, ymax)
    settings = QgsMapSettings()
    settings.setLayers([tiles])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setExtent(extent)
    settings.setOutputSize(QSize(512, 512))
    settings.setBackgroundColor(QColor(255, 255, 255, 0))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    out["render"] = {"errors": [e.message for e in job.errors()]}
    image = job.renderedImage()
    if not image.save(out_png):
        fail(f"cannot write {out_png}")

    # An inner point of each district at least 8 px from its edges, in pixels of that image.
    mercator = QgsCoordinateTransform(districts.crs(), settings.destinationCrs(), QgsProject.instance())
    px = side / 512
    samples = []
    for f in districts.getFeatures():
        g = f.geometry()
        g.transform(mercator)
        if not g.boundingBox().intersects(extent):
            continue
        inside = g.intersection(QgsGeometry.fromRect(extent))
        if inside.isEmpty():
            continue
        point, distance = inside.poleOfInaccessibility(px / 2)
        if distance < 8 * px:
            continue
        p = point.asPoint()
        col = int((p.x() - extent.xMinimum()) / px)
        row = int((extent.yMaximum() - p.y()) / px)
        samples.append({"code": f["code"], "col": col, "row": row, "qgis": hex_of(image.pixelColor(col, row))})
    out["samples"] = samples
    print(json.dumps(out))


def main():
    app = QgsApplication([], False)
    app.initQgis()
    QgsApplication.messageLog().messageReceived.connect(
        lambda message, tag, level: LOG.append(f"{tag}: {message}")
    )
    try:
        command = sys.argv[1] if len(sys.argv) > 1 else ""
        if command == "oapif" and len(sys.argv) == 5:
            oapif(*sys.argv[2:5])
        elif command == "vectortiles" and len(sys.argv) == 10:
            base, layer, indicator, query, z, x, y, png = sys.argv[2:10]
            vectortiles(base, layer, indicator, query, int(z), int(x), int(y), png)
        else:
            fail(f"usage: see the docstring of {sys.argv[0]}")
    finally:
        app.exitQgis()


if __name__ == "__main__":
    main()
